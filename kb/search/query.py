"""Reading what a person typed into a query, ranking, snippets and suggestions.

Natural language by default: every word is optional (OR), each scored with
BM25F over the title (boosted), the tags and the whole story, a word typed
twice counts twice, and stories holding all the words, or the words as a
phrase, score higher. Quotes, AND/OR/NOT, brackets and ``field:value`` switch
to Whoosh's query syntax; anything it cannot read falls back to the words.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from markupsafe import Markup
from whoosh import highlight, qparser
from whoosh import query as wq

from kb.search.schema import FIELD_ALIASES, STEMMED, WORDS

MAX_QUERY_CHARS = 500
OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}
# Field weights for the natural-language query (BM25F per field, summed).
TITLE_BOOST = 2.0
TAGS_BOOST = 1.5
# Extra weight for stories that hold every word, or the words as a phrase.
ALL_WORDS_BONUS = 0.3
PHRASE_BONUS = 0.5
MAX_BONUS_WORDS = 6
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SYNTAX = re.compile(r'["()\[\]{}^*?~]|(?<!\S)[+-]\S|\b[A-Za-z_]+:\S')
_TAGS = re.compile(r"<[^>]{0,500}>|!?\[([^\]]*)\]\([^)]*\)|[#*_`>|]+")


@dataclass
class ParsedQuery:
    """A query ready to run.

    ``text``: the cleaned input. ``scoring``: the Whoosh query that ranks.
    ``words``: stemmed words for the fast match set (natural language only),
    or None when ``scoring`` decides matches itself. ``terms``: stemmed words
    to highlight. ``plain_words``: the words as typed (for "did you mean").
    ``message``: something to tell the reader about their input.
    """

    text: str
    scoring: wq.Query | None = None
    words: list[str] | None = None
    terms: set[str] = field(default_factory=set)
    plain_words: list[str] = field(default_factory=list)
    message: str = ""

    @property
    def is_empty(self) -> bool:
        return self.scoring is None


def clean(text) -> tuple[str, str]:
    """The text to search for, and a message if it had to be shortened."""
    text = _CONTROL.sub(" ", str(text or ""))
    text = " ".join(text.split())
    if len(text) > MAX_QUERY_CHARS:
        cut = text[:MAX_QUERY_CHARS].rsplit(" ", 1)[0] or text[:MAX_QUERY_CHARS]
        return cut, f"Your search was long, so only its first {len(cut)} characters were used."
    return text, ""


def _operators_in_place(text: str) -> str:
    """Lower-case AND/OR/NOT unless they stand between words (NOT: before one).

    Text with no lower-case letters at all (pasted in capitals) has no operators.
    """
    if not re.search(r"[a-z]", text):
        return text.lower()
    words = text.split(" ")
    out = []
    for n, word in enumerate(words):
        if word in OPERATORS:
            before = n > 0 and words[n - 1] not in OPERATORS
            after = n + 1 < len(words) and words[n + 1] not in OPERATORS
            if not (after and (before or word == "NOT")):
                word = word.lower()
        out.append(word)
    return " ".join(out)


def _uses_syntax(text: str) -> bool:
    return bool(_SYNTAX.search(text)) or any(word in OPERATORS for word in text.split(" "))


def stems(text: str) -> list[str]:
    return [token.text for token in STEMMED(text)]


def _natural(text: str) -> tuple[wq.Query | None, list[str]]:
    words = stems(text)
    counts = Counter(words)
    if not counts:
        return None, []
    clauses = [
        wq.Or([wq.Term("title", word, boost=TITLE_BOOST), wq.Term("tags", word, boost=TAGS_BOOST),
               wq.Term("content", word)], boost=float(count))
        for word, count in counts.items()
    ]
    if 2 <= len(counts) <= MAX_BONUS_WORDS:
        clauses.append(wq.And([wq.Term("content", word) for word in counts], boost=ALL_WORDS_BONUS))
        clauses.append(wq.Phrase("content", words, slop=1, boost=PHRASE_BONUS))
    return wq.Or(clauses), list(counts)


def _parser(schema) -> qparser.QueryParser:
    parser = qparser.MultifieldParser(
        ["title", "tags", "content"], schema,
        fieldboosts={"title": TITLE_BOOST, "tags": TAGS_BOOST}, group=qparser.OrGroup,
    )
    parser.remove_plugin_class(qparser.BoostPlugin)
    aliases: dict[str, list[str]] = {}
    for alias, target in FIELD_ALIASES.items():
        if alias != target:
            aliases.setdefault(target, []).append(alias)
    parser.add_plugin(qparser.FieldAliasPlugin(aliases))
    return parser


def _syntax(text: str, schema) -> wq.Query | None:
    try:
        parsed = _parser(schema).parse(text)
    except Exception:  # Whoosh raises many kinds on odd input; the words still work
        return None
    if parsed is None or parsed is wq.NullQuery or isinstance(parsed, type(wq.NullQuery)):
        return None
    return parsed


def _query_terms(parsed: wq.Query) -> set[str]:
    terms = set()
    try:
        for fieldname, text in parsed.iter_all_terms(phrases=True):
            if fieldname in ("title", "content", "tags", "orgs", "areas"):
                terms.add(text.decode("utf-8") if isinstance(text, bytes) else text)
    except Exception:
        pass
    return terms


def parse(raw, schema) -> ParsedQuery:
    """Read any input whatsoever into a ParsedQuery; never raises."""
    text, message = clean(raw)
    plain_words = [token.text for token in WORDS(text)]
    if not text:
        return ParsedQuery(text, message=message)
    # "field:" with nothing after it is just the word.
    text_ops = re.sub(r"(\w):(?=\s|$)", r"\1", _operators_in_place(text))
    if _uses_syntax(text_ops):
        parsed = _syntax(text_ops, schema)
        if parsed is not None:
            terms = _query_terms(parsed)
            return ParsedQuery(text, parsed, None, terms, plain_words, message)
        text_ops = re.sub(r"[^\w\s]", " ", text_ops.lower())
    scoring, words = _natural(text_ops.lower())
    if scoring is None:
        message = message or "There were no words to search for, so every story is listed."
        return ParsedQuery(text, message=message)
    return ParsedQuery(text, scoring, words, set(words), plain_words, message)


# Snippets --------------------------------------------------------------------

_FRAGMENTER = highlight.ContextFragmenter(maxchars=220, surround=60)
_FORMATTER = highlight.HtmlFormatter(tagname="mark", between=" … ")
SNIPPET_SOURCE_CHARS = 30_000


def plain_text(markdown: str) -> str:
    """Markdown and HTML reduced to readable words for a snippet."""
    return " ".join(_TAGS.sub(lambda m: m.group(1) or " ", markdown or "").split())


def snippet(terms: set[str], *texts: str) -> Markup | None:
    """An HTML-escaped passage with the matched words in ``<mark>``, or None."""
    if not terms:
        return None
    for text in texts:
        text = plain_text(text)[:SNIPPET_SOURCE_CHARS]
        if not text:
            continue
        found = highlight.highlight(text, terms, STEMMED, _FRAGMENTER, _FORMATTER, top=2)
        if found and "<mark" in found:
            return Markup(found)
    return None


# Suggestions -----------------------------------------------------------------

def suggestion(searcher, parsed: ParsedQuery) -> str | None:
    """The query with each word found in no story replaced by a close, known word."""
    if not parsed.plain_words or parsed.words is None:
        return None
    reader = searcher.reader()
    corrector = searcher.corrector("words")
    text = parsed.text
    changed = False
    for word in dict.fromkeys(parsed.plain_words):
        stemmed = stems(word)
        if not stemmed or not word.isalpha() or len(word) < 3:
            continue
        if reader.doc_frequency("content", stemmed[0]) or reader.doc_frequency("words", word):
            continue
        found = corrector.suggest(word, limit=1, maxdist=1 if len(word) <= 5 else 2)
        if found and found[0] != word:
            text = re.sub(rf"(?i)\b{re.escape(word)}\b", found[0], text)
            changed = True
    return text if changed else None
