"""The cleaning every import format gets, whatever the file looked like:
entities decoded and HTML tags stripped in plain-text fields, relative links
in bodies resolved against the record's address, a summary repeated as the
body's first paragraph dropped, a missing summary taken from the body, and
over-long values shortened at a word. Each function is pure: text in, text out.
"""
from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

ELLIPSIS = "…"
SUMMARY_FROM_BODY = 300  # characters of the body's first sentences that make a missing summary

# Only the tags of HTML elements: "<scaling>" in a bookmark's note is text.
_ELEMENTS = ("a|abbr|acronym|address|article|aside|b|big|blockquote|body|br|caption|center|cite|code|col|"
             "dd|del|dfn|div|dl|dt|em|figcaption|figure|font|footer|h[1-6]|head|header|hr|html|i|iframe|img|"
             "ins|kbd|label|li|main|mark|nav|nobr|ol|p|pre|q|s|samp|section|small|span|strike|strong|sub|"
             "sup|table|tbody|td|tfoot|th|thead|time|tr|tt|u|ul|var|wbr")
_TAG = re.compile(rf"<\s*/?\s*(?:{_ELEMENTS})\b[^<>]*>|<!--.*?-->", re.S | re.I)
_DROPPED = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_BLOCK_TAG = re.compile(r"<\s*/?\s*(p|br|div|li|ul|ol|h[1-6]|blockquote|tr|td|th|table)\b[^<>]*>", re.I)
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]{1,31});")
_SPACE = re.compile(r"[^\S\n\u2028\u2029]+")


def decode_entities(text: str) -> str:
    """Entities decoded, as often as they were encoded (``&amp;#8217;`` is ’)."""
    for _ in range(3):
        if not _ENTITY.search(text):
            break
        text = html.unescape(text)
    return text


def plain(text: str) -> str:
    """Plain text: entities decoded, HTML tags taken out, white space made single
    (line breaks stay: a summary may have several lines)."""
    if not text:
        return ""
    text = decode_entities(text)
    if "<" in text:
        text = _TAG.sub("", _BLOCK_TAG.sub(" ", _DROPPED.sub(" ", text)))
        text = decode_entities(text)
    if "\n" in text:
        return "\n".join(line for line in (_SPACE.sub(" ", part).strip() for part in text.split("\n")) if line)
    return _SPACE.sub(" ", text).strip()


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word to at most ``limit`` characters, ending with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:-") + ELLIPSIS


# Bodies ------------------------------------------------------------------------------------------

# [text](/path "title"), ![alt](img.png), [ref]: /path, href="/path", src='/img.png'
_MD_LINK = re.compile(r"(\]\(\s*<?)([^)\s>]+)")
_MD_REF = re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*<?)(\S+?)(>?)(?=\s|$)", re.M)
_HTML_ATTR = re.compile(r"""(\b(?:href|src)\s*=\s*["'])([^"']*)""", re.I)
_ABSOLUTE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|#|//)")


def resolve_links(body: str, base_url: str) -> str:
    """Relative links and images in a Markdown (or HTML) body made absolute
    against ``base_url``, so that ``/2015/04/02/govtechhack/`` leads to the
    record's site and not to a page kb does not have. Bodies stay as they are
    when there is no web address to resolve against."""
    if not body or not base_url or urlsplit(base_url).scheme not in ("http", "https"):
        return body

    def absolute(url: str) -> str:
        if not url or _ABSOLUTE.match(url):
            return url
        return urljoin(base_url, url)

    body = _MD_LINK.sub(lambda m: m.group(1) + absolute(m.group(2)), body)
    body = _MD_REF.sub(lambda m: m.group(1) + absolute(m.group(2)) + m.group(3), body)
    return _HTML_ATTR.sub(lambda m: m.group(1) + absolute(m.group(2)), body)


def _comparable(text: str) -> str:
    return plain(text).casefold().rstrip(" .…")


def drop_repeated_summary(summary: str, body: str) -> str:
    """The body without its first paragraph when that paragraph repeats the
    summary; when the paragraph starts with the summary and goes on, only the
    repeated sentences go."""
    if not summary or not body:
        return body
    stripped = body.lstrip()
    first, sep, rest = stripped.partition("\n\n")
    wanted = _comparable(summary)
    if not wanted:
        return body
    if _comparable(first) == wanted:
        return rest.lstrip("\n")
    flat, flat_summary = " ".join(first.split()), " ".join(summary.split())
    if len(flat_summary) >= 40 and flat.startswith(flat_summary + " "):
        return flat[len(flat_summary) + 1:] + sep + rest
    return body


_MD_SYNTAX = [
    (re.compile(r"```.*?```", re.S), " "),          # code blocks
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), " "),     # images
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),  # links keep their text
    (re.compile(r"^\s{0,3}#{1,6}\s.*$", re.M), ""),               # headings say no sentence
    (re.compile(r"^\s{0,3}(>|[-*+]|\d+\.)\s+", re.M), ""),      # quotes, list marks
    (re.compile(r"[*_`]{1,3}"), ""),                # emphasis and code marks
]
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"'(])")


def summary_from_body(body: str, limit: int = SUMMARY_FROM_BODY) -> str:
    """The body's first sentences as plain text, up to about ``limit`` characters."""
    text = body or ""
    for pattern, replacement in _MD_SYNTAX:
        text = pattern.sub(replacement, text)
    text = " ".join(plain(text).split())
    if not text:
        return ""
    summary = ""
    for sentence in _SENTENCE_END.split(text):
        if summary and len(summary) + 1 + len(sentence) > limit:
            break
        summary = f"{summary} {sentence}".strip()
    return shorten(summary, limit)
