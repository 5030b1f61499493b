"""Imports into kb and exports out of it. Every import format goes through one
pipeline: parse (formats.py) -> validate and save through the services
(pipeline.py) -> a report (report.py). Exports are in export.py."""
from kb.importers.formats import FORMATS, FileProblem, detect_format, parse
from kb.importers.pipeline import STATUSES, import_file, import_rows
from kb.importers.report import Report

__all__ = ["FORMATS", "STATUSES", "FileProblem", "Report", "detect_format", "import_file", "import_rows", "parse"]
