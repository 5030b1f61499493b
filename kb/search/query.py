"""Reading what a person typed into a query, snippets and suggestions.

Natural language unless the syntax is unmistakable: every word is optional
(OR), ranked by ``rank.py``, and a word typed twice counts twice. Syntax is
only quotes, a known field prefix (``title:``, ``tag:``, ``org:``, ``area:``,
``kind:``... see ``FIELD_ALIASES``), AND/OR/NOT in capitals between terms and
a trailing ``*`` on a word of three letters or more; brackets group only
around those. Every other character is text (``?``, ``!``, ``:``, ``-``,
``/``, ``'``, inside words too), so a question finds what the same words
without the question mark find. A query that mixes prose and syntax keeps
both: the prose words are optional and rank the matches.

The parsed query is a small tree of Whoosh query objects (Term, Phrase, And,
Or, AndNot, Not) that ``kb.search`` evaluates as set operations on decoded
postings; prefixes are expanded here, at most ``MAX_EXPANSIONS`` words each.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice

from markupsafe import Markup, escape
from whoosh import query as wq

from kb.search.postings import term_stats
from kb.search.schema import FIELD_ALIASES, STEMMED, WORDS, term_of

# Longest query read; the search page refuses longer ones with a page that says so.
MAX_QUERY_CHARS = 10_000
# Distinct words a natural-language query matches and ranks by (its most
# distinctive ones: rarest in the index, weighted by how often typed).
MAX_QUERY_WORDS = 64
# Words a prefix (``innov*``) expands to (the commonest), and words looked at to choose them.
MAX_EXPANSIONS = 50
MAX_PREFIX_SCAN = 5_000
# Words (prefix expansions and phrase words included) a query in syntax may hold.
MAX_SYNTAX_TERMS = 200
# Unknown words "did you mean" looks for, and the longest word it tries.
MAX_SUGGESTED_WORDS = 8
MAX_SUGGESTED_LENGTH = 20
OPERATORS = ("AND", "OR", "NOT")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TOKEN = re.compile(r'(?P<field>[A-Za-z]+):"(?P<fphrase>[^"]*)"|"(?P<phrase>[^"]*)"|(?P<open>\()|(?P<close>\))'
                    r'|(?P<word>[^\s"()]+)')
_FIELD_WORD = re.compile(r"([A-Za-z]+):(\S+)")
_PREFIX = re.compile(r"(\w{3,})\*")
_TEXT_FIELDS = ("title", "content", "tags")
_KEYWORD_FIELDS = ("kind", "stage", "year", "status")
_TAGS = re.compile(r"<[^>]{0,500}>|!?\[([^\]]*)\]\([^)]*\)|[#*_`>|]+")


@dataclass
class ParsedQuery:
    """A query ready to run.

    ``text``: the cleaned input. ``scoring``: the query tree that decides the
    matches (None: no words, every story is listed). ``words``: stemmed word
    -> times typed, for natural language, or None for a query in syntax.
    ``phrase``: the stemmed words in order (natural language). ``terms``:
    stemmed words to highlight. ``plain_words``: the words as typed (for "did
    you mean"). ``message``: something to tell the reader about their input.
    ``rank_words``: for a query in syntax, the positive words in the text
    fields, which rank its matches like natural language (None: newest first).
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


def clean(text, limit: int | None = MAX_QUERY_CHARS) -> tuple[str, str]:
    """The text to search for, and a message if it had to be shortened."""
    text = _CONTROL.sub(" ", str(text or ""))
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
        return cut, f"Your search was long, so only its first {len(cut):,} characters were used."
    return text, ""


def stems(text: str) -> list[str]:
    """The stemmed words of typed text. Whoosh's tokenizer keeps ``*`` in words;
    outside a prefix it is text like any other punctuation."""
    return [token.text for token in STEMMED(text.replace("*", " "))]


# Tokens ----------------------------------------------------------------------

@dataclass
class _Token:
    kind: str  # word, phrase, field, prefix, op, open, close
    text: str
    field: str = ""


def _tokens(text: str) -> list[_Token]:
    """The input as words, phrases, field terms, prefixes and brackets.

    A quote without its pair is text. ``AND``/``OR``/``NOT`` are marked as
    possible operators here and decided by ``_operators``."""
    if text.count('"') % 2:
        last = text.rindex('"')
        text = text[:last] + " " + text[last + 1:]
    out = []
    for m in _TOKEN.finditer(text):
        if m.group("field") is not None:
            name = m.group("field").lower()
            if name in FIELD_ALIASES:
                out.append(_Token("field", m.group("fphrase"), FIELD_ALIASES[name]))
            else:
                out += [_Token("word", m.group("field")), _Token("phrase", m.group("fphrase"))]
        elif m.group("phrase") is not None:
            out.append(_Token("phrase", m.group("phrase")))
        elif m.group("open"):
            out.append(_Token("open", "("))
        elif m.group("close"):
            out.append(_Token("close", ")"))
        else:
            out.append(_word_token(m.group("word")))
    return out


def _word_token(word: str) -> _Token:
    fielded = _FIELD_WORD.fullmatch(word)
    if fielded and fielded.group(1).lower() in FIELD_ALIASES:
        name = FIELD_ALIASES[fielded.group(1).lower()]
        value = fielded.group(2)
        prefix = _PREFIX.fullmatch(value)
        if prefix and name in ("title", "tags", "orgs", "areas"):
            return _Token("prefix", prefix.group(1), name)
        return _Token("field", value, name)
    prefix = _PREFIX.fullmatch(word)
    if prefix:
        return _Token("prefix", prefix.group(1), "content")
    if word in OPERATORS:
        return _Token("op", word)
    return _Token("word", word)


_OPERAND_START = ("word", "phrase", "field", "prefix", "open")
_OPERAND_END = ("word", "phrase", "field", "prefix", "close")


def _operators(tokens: list[_Token], all_capitals: bool) -> list[_Token]:
    """Keep AND/OR as operators only between terms and NOT only before one;
    the rest are words. Text typed all in capitals has no operators."""
    out = list(tokens)
    for n, token in enumerate(out):
        if token.kind != "op":
            continue
        before = out[n - 1] if n else None
        after = out[n + 1] if n + 1 < len(out) else None
        starts = after is not None and (after.kind in _OPERAND_START or (after.kind == "op" and after.text == "NOT"))
        if token.text == "NOT":
            ok = after is not None and after.kind in _OPERAND_START
        else:
            ok = starts and before is not None and before.kind in _OPERAND_END
        if all_capitals or not ok:
            out[n] = _Token("word", token.text.lower())
    return out


# Building the query tree -------------------------------------------------------

class _Builder:
    """Recursive descent over the tokens: OR (also between adjacent terms) binds
    loosest, then AND, then NOT; brackets group."""

    def __init__(self, tokens: list[_Token], reader, message: list[str]):
        self.tokens = tokens
        self.at = 0
        self.depth = 0
        self.terms_left = MAX_SYNTAX_TERMS
        self.reader = reader
        self.message = message

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        self.at += 1
        return self.tokens[self.at - 1]

    def any(self) -> wq.Query | None:
        parts = []
        while (token := self.peek()) is not None:
            if token.kind == "close":
                self.take()
                if self.depth:
                    break
                continue  # a closing bracket without its pair is text
            if token.kind == "op" and token.text == "OR":
                self.take()
                continue
            parts.append(self.all())
        return _combine(wq.Or, parts)

    def all(self) -> wq.Query | None:
        left = self.unary()
        while (token := self.peek()) is not None and token.kind == "op" and token.text == "AND":
            self.take()
            right = self.unary()
            if isinstance(right, wq.Not):
                left = wq.AndNot(left, right.query) if left is not None else right
            else:
                left = _combine(wq.And, [left, right])
        return left

    def unary(self) -> wq.Query | None:
        token = self.take()
        if token.kind == "op" and token.text == "NOT":
            inner = self.unary()
            return wq.Not(inner) if inner is not None else None
        if token.kind == "open":
            self.depth += 1
            inner = self.any()
            self.depth -= 1
            return inner
        if token.kind == "op":  # an operator with nothing usable around it
            return None
        return self.term(token)

    def term(self, token: _Token) -> wq.Query | None:
        if self.terms_left <= 0:
            return None
        if token.kind == "prefix":
            found = self.prefix(token.field, token.text.lower())
        elif token.field in _KEYWORD_FIELDS:
            found = wq.Term(token.field, token.text.lower()) if token.text else None
        else:
            found = _words_query(token.field or "content", token.text)
        size = len(found.subqueries) if isinstance(found, wq.Or) else len(getattr(found, "words", ())) or 1
        self.terms_left -= size if found is not None else 0
        if self.terms_left <= 0:
            self.message.append(f"Your search has many parts, so only those holding its first "
                                f"{MAX_SYNTAX_TERMS} words were used.")
        return found

    def prefix(self, fieldname: str, prefix: str) -> wq.Query | None:
        starts = dict.fromkeys([prefix, *stems(prefix)[:1]])
        found: set[str] = set()
        for start in starts:
            try:
                found.update(t.decode("utf-8") if isinstance(t, bytes) else t
                             for t in islice(self.reader.expand_prefix(fieldname, start), MAX_PREFIX_SCAN))
            except Exception:  # a field this index does not have
                continue
        if not found:
            return wq.Term(fieldname, prefix)
        if len(found) > MAX_EXPANSIONS:
            found = set(sorted(found, key=lambda t: -self.reader.doc_frequency(fieldname, t))[:MAX_EXPANSIONS])
            self.message.append(f"{prefix}* matches many words, so only the {MAX_EXPANSIONS} commonest were searched for.")
        return _combine(wq.Or, [wq.Term(fieldname, t) for t in sorted(found)])


def _words_query(fieldname: str, text: str) -> wq.Query | None:
    words = stems(text)
    if not words:
        return None
    if len(words) == 1:
        return wq.Term(fieldname, words[0])
    return wq.Phrase(fieldname, words[:MAX_SYNTAX_TERMS], slop=1)


def _combine(kind, parts: list) -> wq.Query | None:
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    if kind is wq.Or:
        nots = [p.query for p in parts if isinstance(p, wq.Not)]
        others = [p for p in parts if not isinstance(p, wq.Not)]
        if nots and others:
            # "a b NOT c" means (a or b) without c, not "a or b or anything but c".
            positive = others[0] if len(others) == 1 else wq.Or(others)
            return wq.AndNot(positive, nots[0] if len(nots) == 1 else wq.Or(nots))
    return kind(parts)


def has_prefix(text: str) -> bool:
    """Whether ``text`` holds a prefix (``innov*``), which is expanded to many words."""
    return any(t.kind == "prefix" for t in _tokens(text))


def _uses_syntax(tokens: list[_Token]) -> bool:
    return any(t.kind in ("phrase", "field", "prefix", "op") for t in tokens)


def _query_terms(parsed: wq.Query) -> set[str]:
    terms = set()
    try:
        for fieldname, text in parsed.iter_all_terms(phrases=True):
            if fieldname in ("title", "content", "tags", "orgs", "areas"):
                terms.add(text.decode("utf-8") if isinstance(text, bytes) else text)
    except Exception:
        pass
    return terms


def _rank_words(q: wq.Query) -> dict[str, int] | None:
    """The positive words of ``q`` in the text fields (None if it has none)."""
    words: dict[str, int] = {}

    def walk(node) -> None:
        if isinstance(node, wq.Not):
            return
        if isinstance(node, wq.AndNot):
            walk(node.a)
        elif type(node) is wq.Term and node.fieldname in _TEXT_FIELDS:
            words[node.text] = 1
        elif type(node) is wq.Phrase and node.fieldname in _TEXT_FIELDS:
            words.update(dict.fromkeys(node.words, 1))
        elif type(node) in (wq.And, wq.Or):
            for child in node.children():
                walk(child)

    walk(q)
    return words or None


def parse(raw, reader=None) -> ParsedQuery:
    """Read any input whatsoever into a ParsedQuery; never raises.

    ``reader`` (the index's) expands prefixes and chooses the most distinctive
    words of a long query; without it prefixes match only themselves."""
    text, message = clean(raw)
    if not text:
        return ParsedQuery(text, message=message)
    plain_words = [token.text for token in WORDS(text)]
    tokens = _tokens(text)
    if _uses_syntax(tokens):
        tokens = _operators(tokens, not re.search(r"[a-z]", text))
    notes = [message] if message else []
    if _uses_syntax(tokens):
        try:
            scoring = _Builder(tokens, reader, notes).any()
        except Exception:  # a shape the builder did not foresee: the words still work
            scoring = None
        if scoring is not None:
            terms = _query_terms(scoring)
            return ParsedQuery(text, scoring, None, [], terms, plain_words, " ".join(notes), _rank_words(scoring))
    words = stems(text)
    counts = Counter(words)
    if not counts:
        message = message or "There were no words to search for, so every story is listed."
        return ParsedQuery(text, message=message)
    if len(counts) > MAX_QUERY_WORDS:
        counts = _most_distinctive(counts, reader)
        words = [w for w in words if w in counts]
        notes.append(f"Your search has many different words, so the {MAX_QUERY_WORDS} most distinctive were used.")
    scoring = _combine(wq.Or, [wq.Term("content", word) for word in counts])
    return ParsedQuery(text, scoring, dict(counts), words, set(counts), plain_words, " ".join(notes))


def _most_distinctive(counts: Counter, reader) -> Counter:
    def weight(word: str) -> float:
        if reader is None:
            return counts[word]
        frequency = reader.doc_frequency("content", word)
        return counts[word] / frequency if frequency else -1.0  # found nowhere: of no use

    return Counter({w: counts[w] for w in sorted(counts, key=weight, reverse=True)[:MAX_QUERY_WORDS]})


# Snippets --------------------------------------------------------------------

# A snippet: at most SNIPPET_FRAGMENTS passages of at most SNIPPET_CHARS
# characters, each around its matched words with SNIPPET_CONTEXT characters either side.
SNIPPET_CHARS = 220
SNIPPET_CONTEXT = 60
SNIPPET_FRAGMENTS = 2
# Only a window of the stored text around a likely match is made plain and
# read (the whole text of a long story cost more than the rest of the search);
# at most this many likely matches are tried per text.
SNIPPET_WINDOW = (400, 1000)
SNIPPET_TRIES = 20


def plain_text(markdown: str) -> str:
    """Markdown and HTML reduced to readable words for a snippet."""
    return " ".join(_TAGS.sub(lambda m: m.group(1) or " ", markdown or "").split())


def snippet(terms: set[str], *texts: str) -> Markup | None:
    """An HTML-escaped passage with the matched words in ``<mark>``, or None:
    from the first of ``texts`` where a word stems to one of ``terms``."""
    if not terms:
        return None
    near = re.compile(r"(?i)\b(?:" + "|".join(re.escape(t[:max(3, len(t) - 1)]) for t in terms) + ")")
    for text in texts:
        found = _passage(text or "", near)
        if found is not None:
            marked = _highlight(*found, terms, near)
            if marked:
                return marked
    return None


def _passage(text: str, near: re.Pattern) -> tuple[str, bool, bool] | None:
    """Plain text around the first likely match of ``near`` in ``text`` (markdown),
    and whether text was left out before and after it; None if there is none.

    Only a window of the markdown around the match is made plain, from a line
    or word start (a match inside a link's address is no match: the next is tried)."""
    before, after = SNIPPET_WINDOW
    at = 0
    for _ in range(SNIPPET_TRIES):
        m = near.search(text, at)
        if m is None:
            return None
        start = max(0, m.start() - before)
        if start:
            line = text.rfind("\n", start - before, m.start())
            start = line + 1 if line >= 0 else text.find(" ", start, m.start()) + 1 or start
        end = m.start() + after
        window = plain_text(text[start:end])
        first = near.search(window)
        if first is not None:
            cut = max(0, first.start() - 200)
            if cut:
                cut = window.find(" ", cut, first.start()) + 1 or cut
            return window[cut:first.start() + 600], bool(start or cut), end < len(text) or first.start() + 600 < len(window)
        at = m.end()
    return None


def _highlight(text: str, cut_before: bool, cut_after: bool, terms: set[str], near: re.Pattern) -> Markup | None:
    """The best ``SNIPPET_FRAGMENTS`` passages of ``text`` around words whose stems
    are ``terms`` (among the words where ``near`` matches) (most different words, then most matches), in text order,
    matches in ``<mark>``, or None if no word matches."""
    matches, after = [], 0
    for likely in near.finditer(text):  # only words starting like a term can stem to one
        if likely.start() < after:
            continue
        word = _SNIPPET_WORD.match(text, likely.start())
        after = word.end()
        if (stem := term_of(word.group().lower())) in terms:
            matches.append((word.start(), word.end(), stem))
    if not matches:
        return None
    fragments: list[list] = []
    for match in matches:
        if fragments and match[1] - fragments[-1][0][0] <= SNIPPET_CHARS - 2 * SNIPPET_CONTEXT:
            fragments[-1].append(match)
        else:
            fragments.append([match])
    best = sorted(fragments, key=lambda f: (-len({m[2] for m in f}), -len(f), f[0][0]))[:SNIPPET_FRAGMENTS]
    parts, first, last = [], len(text), 0
    for fragment in sorted(best, key=lambda f: f[0][0]):
        start = max(0, fragment[0][0] - SNIPPET_CONTEXT)
        end = min(len(text), fragment[-1][1] + SNIPPET_CONTEXT)
        if start:  # whole words only
            start = text.find(" ", start, fragment[0][0]) + 1 or start
        if end < len(text):
            end = max(text.rfind(" ", fragment[-1][1], end), fragment[-1][1])
        first, last = min(first, start), max(last, end)
        html, at = [], start
        for m_start, m_end, _ in fragment:
            html += [escape(text[at:m_start]), Markup("<mark>"), escape(text[m_start:m_end]), Markup("</mark>")]
            at = m_end
        html.append(escape(text[at:end]))
        parts.append(Markup("").join(html).strip())
    out = Markup(" … ").join(parts)
    if cut_before or first > 0:
        out = Markup("… ") + out
    if cut_after or last < len(text):
        out += Markup(" …")
    return out


# kb's analyzer (``schema.STEMMED``) by hand, without a token object per word:
# its tokenizer's words, lower-cased, then ``schema.term_of``.
_SNIPPET_WORD = STEMMED.items[0].expression


def stems_fast(text: str) -> list[str]:
    """The index terms of ``text`` in order, as kb's analyzer makes them."""
    return [stem for m in _SNIPPET_WORD.finditer(text) if (stem := term_of(m.group().lower()))]


# Suggestions -----------------------------------------------------------------

def suggestion(searcher, parsed: ParsedQuery) -> str | None:
    """The query with each word found in no story replaced by the commonest known
    word one edit away (a letter added, removed, changed or two swapped)."""
    if not parsed.plain_words or parsed.words is None:
        return None
    reader = searcher.reader()
    content, known_words = term_stats(reader, "content"), term_stats(reader, "words")
    text = parsed.text
    changed = False
    tried = 0
    for word in dict.fromkeys(parsed.plain_words):
        stemmed = stems(word)
        if not stemmed or not word.isalpha() or not 4 <= len(word) <= MAX_SUGGESTED_LENGTH:
            continue
        if _documents(content, stemmed[0]) or _documents(known_words, word):
            continue
        tried += 1
        if tried > MAX_SUGGESTED_WORDS:
            break
        known = [(_documents(known_words, c), c) for c in _edits(word)]
        best = max(known, default=(0, ""))
        if best[0]:
            text = re.sub(rf"(?i)\b{re.escape(word)}\b", best[1], text)
            changed = True
    return text if changed else None


def _documents(tables: list[dict], word: str) -> int:
    """How many documents hold ``word``, from ``postings.term_stats`` tables (a
    dict lookup per segment, not a term-file seek and read)."""
    return sum(table[word][1] for table in tables if word in table)


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
