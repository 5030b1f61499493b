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
    ``words``: stemmed word -> times typed, for the fast match set and ranker
    (natural language only), or None when ``scoring`` decides matches itself.
    ``phrase``: the stemmed words in order. ``terms``: stemmed words
    to highlight. ``plain_words``: the words as typed (for "did you mean").
    ``message``: something to tell the reader about their input.
    ``rank_words``: for queries in syntax, the words that must or may match
    in the text fields (not those after NOT), to rank the matches like
    natural language; None when the query has parts only Whoosh can weigh
    (wildcards, fuzzy terms, ranges).
    """

    text: str
    scoring: wq.Query | None = None
    words: dict[str, int] | None = None
    phrase: list[str] = field(default_factory=list)
    terms: set[str] = field(default_factory=set)
    plain_words: list[str] = field(default_factory=list)
    message: str = ""
    rank_words: dict[str, int] | None = None

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
    return wq.Or(clauses), words


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
    return _negations_exclude(parsed)


def _negations_exclude(q: wq.Query) -> wq.Query:
    """``a b NOT c`` means (a OR b) without c, not "a OR b OR anything but c"."""
    if isinstance(q, wq.Or):
        subs = [_negations_exclude(sub) for sub in q.subqueries]
        nots = [sub.query for sub in subs if isinstance(sub, wq.Not)]
        others = [sub for sub in subs if not isinstance(sub, wq.Not)]
        if nots and others:
            positive = others[0] if len(others) == 1 else wq.Or(others, boost=q.boost)
            return wq.AndNot(positive, nots[0] if len(nots) == 1 else wq.Or(nots))
        return q.__class__(subs, boost=q.boost) if subs != q.subqueries else q
    if isinstance(q, wq.And):
        return wq.And([_negations_exclude(sub) for sub in q.subqueries], boost=q.boost)
    return q


def _query_terms(parsed: wq.Query) -> set[str]:
    terms = set()
    try:
        for fieldname, text in parsed.iter_all_terms(phrases=True):
            if fieldname in ("title", "content", "tags", "orgs", "areas"):
                terms.add(text.decode("utf-8") if isinstance(text, bytes) else text)
    except Exception:
        pass
    return terms


_TEXT_FIELDS = ("title", "content", "tags")
_FILTER_FIELDS = ("orgs", "areas", "kind", "stage", "year", "status")


def _rank_words(q: wq.Query) -> dict[str, int] | None:
    """The positive words of ``q`` in the text fields, or None if it has parts rank.py cannot weigh."""
    words: dict[str, int] = {}

    def walk(node) -> bool:
        if isinstance(node, wq.Not):
            return True
        if isinstance(node, wq.AndNot):
            return walk(node.a)
        if type(node) is wq.Term:
            if node.fieldname in _TEXT_FIELDS:
                words[node.text] = 1
            return node.fieldname in _TEXT_FIELDS or node.fieldname in _FILTER_FIELDS
        if type(node) is wq.Phrase:
            words.update(dict.fromkeys(node.words, 1))
            return node.fieldname in _TEXT_FIELDS
        if type(node) in (wq.And, wq.Or, wq.AndMaybe, wq.Require):
            return all([walk(child) for child in node.children()])
        return False

    try:
        return words if walk(q) and words else None
    except Exception:
        return None


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
            return ParsedQuery(text, parsed, None, [], terms, plain_words, message, _rank_words(parsed))
        text_ops = re.sub(r"[^\w\s]", " ", text_ops.lower())
    scoring, words = _natural(text_ops.lower())
    if scoring is None:
        message = message or "There were no words to search for, so every story is listed."
        return ParsedQuery(text, message=message)
    return ParsedQuery(text, scoring, dict(Counter(words)), words, set(words), plain_words, message)


# Snippets --------------------------------------------------------------------

_FRAGMENTER = highlight.ContextFragmenter(maxchars=220, surround=60)
_FORMATTER = highlight.HtmlFormatter(tagname="mark", between=" … ")
SNIPPET_SOURCE_CHARS = 50_000


def plain_text(markdown: str) -> str:
    """Markdown and HTML reduced to readable words for a snippet."""
    return " ".join(_TAGS.sub(lambda m: m.group(1) or " ", markdown or "").split())


def snippet(terms: set[str], *texts: str) -> Markup | None:
    """An HTML-escaped passage with the matched words in ``<mark>``, or None."""
    if not terms:
        return None
    near = re.compile(r"(?i)\b(?:" + "|".join(re.escape(t[:max(3, len(t) - 1)]) for t in terms) + ")")
    for text in texts:
        text = plain_text(text)[:SNIPPET_SOURCE_CHARS]
        first = near.search(text)
        if not first:
            continue
        # Only the passage around the first likely match is analysed.
        start = max(0, first.start() - 200)
        text = ("…" if start else "") + text[start:first.start() + 600]
        found = highlight.highlight(text, terms, STEMMED, _FRAGMENTER, _FORMATTER, top=2)
        if found and "<mark" in found:
            return Markup(found)
    return None


# Suggestions -----------------------------------------------------------------

def suggestion(searcher, parsed: ParsedQuery) -> str | None:
    """The query with each word found in no story replaced by the commonest known
    word one edit away (a letter added, removed, changed or two swapped)."""
    if not parsed.plain_words or parsed.words is None:
        return None
    reader = searcher.reader()
    text = parsed.text
    changed = False
    for word in dict.fromkeys(parsed.plain_words):
        stemmed = stems(word)
        if not stemmed or not word.isalpha() or len(word) < 4:
            continue
        if reader.doc_frequency("content", stemmed[0]) or reader.doc_frequency("words", word):
            continue
        known = [(reader.doc_frequency("words", c), c) for c in _edits(word)]
        best = max(known, default=(0, ""))
        if best[0]:
            text = re.sub(rf"(?i)\b{re.escape(word)}\b", best[1], text)
            changed = True
    return text if changed else None


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _edits(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    letters = _LETTERS if word.isascii() else _LETTERS + "".join(sorted(set(word)))
    return (
        {a + b[1:] for a, b in splits if b}
        | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        | {a + c + b[1:] for a, b in splits if b for c in letters}
        | {a + c + b for a, b in splits for c in letters}
    ) - {word}
