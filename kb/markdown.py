"""Story bodies: Markdown rendered to HTML, then sanitised."""
from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# Raw HTML in Markdown is allowed in (imports carry it) and cleaned on the way out.
_md = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table").enable("strikethrough")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}


# Rendered bodies kept per process: a story page rendered its body on every view
# (a third of the page's work). The key is the text itself, so an edit is never
# served stale; longer texts are rendered each time to bound the memory.
RENDERED_KEEP = 256
RENDERED_MAX_CHARS = 50_000


def render_markdown(text: str) -> Markup:
    """Safe HTML for ``text``: no scripts, no event handlers, only http(s) and mailto links."""
    text = text or ""
    return _render_kept(text) if len(text) <= RENDERED_MAX_CHARS else _render(text)


def _render(text: str) -> Markup:
    html = _md.render(text)
    # Headings start at h2: the story title is the page's h1.
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return Markup(clean)


_render_kept = lru_cache(maxsize=RENDERED_KEEP)(_render)


def plain_text(text: str) -> str:
    """The words of a Markdown text, for search and snippets."""
    return nh3.clean(_md.render(text or ""), tags=set()).strip()
