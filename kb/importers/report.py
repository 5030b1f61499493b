"""What an import did, row by row: shown at the end of the command, on the
upload page, and downloadable as CSV or JSON."""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field


@dataclass
class RowResult:
    line: int
    label: str
    outcome: str  # imported, skipped or failed
    title: str
    reason: str = ""
    slug: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"line {self.line}" + (f", {self.label}" if self.label else "")


@dataclass
class Report:
    fmt: str
    status: str = "submitted"
    dry_run: bool = False
    file_warnings: list[str] = field(default_factory=list)
    rows: list[RowResult] = field(default_factory=list)
    seconds: float | None = None

    def _add(self, row, outcome: str, title: str, reason: str = "", slug: str = "") -> None:
        self.rows.append(RowResult(row.line, row.label, outcome, title, reason, slug, list(row.warnings)))

    def imported(self, row, title: str, slug: str) -> None:
        self._add(row, "imported", title, slug=slug)

    def skipped(self, row, title: str, reason: str, slug: str = "") -> None:
        self._add(row, "skipped", title, reason, slug)

    def failed(self, row, title: str, reason: str) -> None:
        self._add(row, "failed", title, reason)

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def counts(self) -> dict[str, int]:
        return {outcome: self.count(outcome) for outcome in ("imported", "skipped", "failed")}

    @property
    def problems(self) -> list[RowResult]:
        """Rows that were not imported, or were imported with a warning."""
        return [row for row in self.rows if row.outcome != "imported" or row.warnings]

    def summary(self) -> str:
        counts = self.counts
        would = "would be " if self.dry_run else ""
        text = (f"{counts['imported']} {would}imported, {counts['skipped']} skipped, "
                f"{counts['failed']} failed")
        if self.dry_run:
            text += " (dry run: nothing was saved)"
        return text

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["line", "record", "outcome", "title", "reason", "slug", "warnings"])
        for row in self.rows:
            writer.writerow([row.line, row.label, row.outcome, _cell(row.title), _cell(row.reason), row.slug,
                             _cell("; ".join(row.warnings))])
        return out.getvalue()

    def to_dict(self) -> dict:
        return {"format": self.fmt, "status": self.status, "dry_run": self.dry_run, "counts": self.counts,
                "file_warnings": self.file_warnings, "seconds": self.seconds,
                "rows": [asdict(row) for row in self.rows]}

    @classmethod
    def from_dict(cls, data: dict) -> "Report":
        report = cls(fmt=data["format"], status=data["status"], dry_run=data["dry_run"],
                     file_warnings=list(data.get("file_warnings", [])), seconds=data.get("seconds"))
        report.rows = [RowResult(**row) for row in data.get("rows", [])]
        return report


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
