"""Automated accessibility check for browser tests: axe-core, WCAG 2.2 A and AA.

axe-core comes from npm (``node_modules/axe-core``), installed by
``npm ci`` with the other front-end packages.
"""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# axe puts a check it could not decide in "incomplete" rather than
# "violations". Most of those need a person (for example "is this link text
# meaningful?"), so they are not failures in general. These rules are the
# exceptions: each decides something our own templates control, and an
# undecided answer has, on this project, meant a real fault.
#   duplicate-id, duplicate-id-aria: two forms on one page with the same
#     field name give duplicate ids, and axe reports that only as incomplete.
#   color-contrast: undecided when text sits over a background axe cannot
#     compute (an image, a gradient, overlapping boxes); our pages have no such
#     backgrounds, so an undecided contrast means a layout fault to look at.
#     Except when axe is unsure the content is text at all (reasons in
#     CONTRAST_NOT_TEXT): GOV.UK pagination's "⋯" ellipsis is always one.
#   link-in-text-block: undecided when a link in running text is told apart
#     by colour alone and axe cannot compute the colours; GOV.UK links are
#     underlined, so this only fires when a style of ours removed that.
#   aria-valid-attr-value: undecided when aria-controls/aria-describedby
#     point at an id that is not on the page, which is a broken reference.
# Rules left out because they are undecided on sound markup: target-size
# (undecided wherever targets are near each other, e.g. inline links in
# text, which WCAG 2.5.8 exempts) and aria-allowed-role-like advice.
INCOMPLETE_IS_FAILURE = frozenset(
    {
        "duplicate-id",
        "duplicate-id-aria",
        "color-contrast",
        "link-in-text-block",
        "aria-valid-attr-value",
    }
)

# color-contrast "incomplete" reasons (axe messageKeys) that say the content
# may not be text, rather than that its colours could not be worked out.
CONTRAST_NOT_TEXT = frozenset({"nonBmp", "shortTextContent"})

_RUN_AXE = """
async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations', 'incomplete'],
  });
  const simplify = (rule) => ({
    id: rule.id,
    impact: rule.impact,
    help: rule.help,
    helpUrl: rule.helpUrl,
    nodes: rule.nodes.map((node) => ({
      target: node.target.join(' '),
      html: node.html,
      summary: node.failureSummary || '',
      reasons: [...node.any, ...node.all, ...node.none]
        .map((check) => check.data && check.data.messageKey)
        .filter(Boolean),
    })),
  });
  return {
    violations: results.violations.map(simplify),
    incomplete: results.incomplete.map(simplify),
  };
}
"""

# axe's duplicate-id rule is deprecated and outside the WCAG 2.2 tags, yet a
# duplicate id still breaks label and aria references: check it directly.
_DUPLICATE_IDS = """
() => {
  const seen = new Map();
  for (const el of document.querySelectorAll('[id]')) {
    seen.set(el.id, (seen.get(el.id) || 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([id, n]) => `#${id} (${n} times)`);
}
"""


def axe_results(page) -> dict:
    """Run axe-core on the page as it is now and return its findings.

    :return: ``{"violations": [...], "incomplete": [...]}``, each rule with
        ``id``, ``impact``, ``help``, ``helpUrl`` and ``nodes``.
    """
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci --no-audit --no-fund` in {ROOT}")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, not as an inline <script>, which
        # the page's Content-Security-Policy rightly refuses.
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    return page.evaluate(_RUN_AXE, WCAG_TAGS)


def accessibility_problems(page) -> list[str]:
    """Every fault found on the page, one readable line block each; empty if none."""
    results = axe_results(page)
    failing = results["violations"] + [
        dict(rule, id=f"{rule['id']} (incomplete)", nodes=nodes)
        for rule in results["incomplete"]
        if rule["id"] in INCOMPLETE_IS_FAILURE and (nodes := _undecided_nodes(rule))
    ]
    problems = [_describe(rule) for rule in failing]
    duplicates = page.evaluate(_DUPLICATE_IDS)
    if duplicates:
        problems.append("duplicate ids: " + ", ".join(duplicates))
    return problems


def assert_accessible(page) -> None:
    """Fail the test if axe-core finds any WCAG 2.2 A/AA fault on the page.

    :raise pytest.fail.Exception: with the rule, its help text and the
        offending elements for every fault.
    """
    problems = accessibility_problems(page)
    if problems:
        pytest.fail(
            f"{len(problems)} accessibility problem(s) on {page.url}:\n" + "\n".join(problems),
            pytrace=False,
        )


def _undecided_nodes(rule: dict) -> list[dict]:
    if rule["id"] != "color-contrast":
        return rule["nodes"]
    return [node for node in rule["nodes"] if not set(node["reasons"]) <= CONTRAST_NOT_TEXT or not node["reasons"]]


def _describe(rule: dict) -> str:
    lines = [f"- {rule['id']} [{rule['impact'] or 'n/a'}]: {rule['help']} ({rule['helpUrl']})"]
    for node in rule["nodes"][:10]:
        lines.append(f"    {node['target']}: {node['html'][:200]}")
        if node["summary"]:
            lines.extend("      " + line for line in node["summary"].splitlines())
    if len(rule["nodes"]) > 10:
        lines.append(f"    ... and {len(rule['nodes']) - 10} more")
    return "\n".join(lines)


__all__ = ["AXE_JS", "WCAG_TAGS", "INCOMPLETE_IS_FAILURE", "CONTRAST_NOT_TEXT", "assert_accessible", "axe_results", "accessibility_problems"]
