"""Places as data: ISO 3166-1 countries and the UK's local authorities
(ONS GSS codes, shipped in ``uk-local-authorities.csv``; see README.md for
its source and licence). Plain data, loaded once; no database table."""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import iso3166

HERE = Path(__file__).parent
UK = "GB"
# Names people write for a country that ISO's official names do not match.
COUNTRY_ALIASES = {
    "uk": UK, "united kingdom": UK, "great britain": UK, "britain": UK, "england": UK, "scotland": UK,
    "wales": UK, "northern ireland": UK, "usa": "US", "us": "US", "united states": "US",
    "united states of america": "US", "america": "US", "russia": "RU", "south korea": "KR", "korea": "KR",
    "north korea": "KP", "iran": "IR", "vietnam": "VN", "viet nam": "VN", "laos": "LA", "syria": "SY",
    "tanzania": "TZ", "bolivia": "BO", "venezuela": "VE", "moldova": "MD", "taiwan": "TW",
    "the netherlands": "NL", "holland": "NL", "czech republic": "CZ", "ireland": "IE",
    "republic of ireland": "IE", "uae": "AE", "turkey": "TR", "czechia": "CZ",
}
# Short names to show where ISO's official name is long.
SHORT_NAMES = {UK: "United Kingdom", "US": "United States", "RU": "Russia", "KR": "South Korea",
               "KP": "North Korea", "IR": "Iran", "VN": "Vietnam", "TW": "Taiwan", "NL": "Netherlands",
               "BO": "Bolivia", "VE": "Venezuela", "TZ": "Tanzania", "MD": "Moldova", "SY": "Syria",
               "LA": "Laos"}
# Short names in common use that the ONS names do not give.
AUTHORITY_ALIASES = {"hull": "E06000010", "durham": "E06000047", "edinburgh": "S12000036",
                     "glasgow": "S12000049", "bristol": "E06000023", "herefordshire": "E06000019"}
NATIONS = ("England", "Scotland", "Wales", "Northern Ireland")


@dataclass(frozen=True)
class Authority:
    code: str
    name: str
    nation: str
    region: str
    type: str

    @property
    def area(self) -> str:
        """The English region, or the nation elsewhere in the UK."""
        return self.region or self.nation


def fold(text: str) -> str:
    """A name reduced for comparison: lower case, no accents or punctuation, single spaces."""
    text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", " ", text.lower().replace("&", " and "))
    return " ".join(text.split())


@lru_cache(maxsize=1)
def authorities() -> dict[str, Authority]:
    """Every authority by its code, in the file's order."""
    with open(HERE / "uk-local-authorities.csv", encoding="utf-8", newline="") as handle:
        return {row["code"]: Authority(**row) for row in csv.DictReader(handle)}


def authority(code: str | None) -> Authority | None:
    return authorities().get((code or "").strip().upper())


_SUFFIXES = (" council", " metropolitan borough", " borough", " city", " district", " county",
             " metropolitan district")
_PREFIXES = ("city of ", "london borough of ", "royal borough of ", "borough of ", "county of ")


def _name_keys(name: str) -> set[str]:
    """The forms of an authority's name people write: "Kingston upon Hull, City of" is also
    "Kingston upon Hull", "City of Kingston upon Hull" and "Hull City"."""
    folded = fold(name)
    keys = {folded}
    if ", " in name:
        head, tail = name.split(", ", 1)
        keys |= {fold(head), fold(f"{tail} {head}")}
    return keys


@lru_cache(maxsize=1)
def _authorities_by_name() -> dict[str, str]:
    by_name: dict[str, str] = {}
    # Districts and unitaries first, so that a county's name that is also a
    # district's (none today) would give the district.
    ordered = sorted(authorities().values(), key=lambda a: a.type == "county")
    for item in ordered:
        for key in _name_keys(item.name):
            by_name.setdefault(key, item.code)
    for item in ordered:
        for key in _name_keys(item.name):
            by_name.setdefault(_strip_council_words(key), item.code)
    by_name.update(AUTHORITY_ALIASES)
    return by_name


def _strip_council_words(folded: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if folded.startswith(prefix):
                folded, changed = folded[len(prefix):], True
        for suffix in _SUFFIXES:
            if folded.endswith(suffix) and len(folded) > len(suffix):
                folded, changed = folded[: -len(suffix)], True
    return folded


def find_authority(text: str | None) -> Authority | None:
    """The authority a name means ("Barnsley Council", "London Borough of Camden",
    "Barnsley, South Yorkshire"), or None. Only whole names match."""
    if not text:
        return None
    found = authority(text)
    if found:
        return found
    by_name = _authorities_by_name()
    candidates = [text, *str(text).split(",")[:1]]
    for candidate in candidates:
        folded = fold(candidate)
        for key in (folded, _strip_council_words(folded)):
            if key in by_name:
                return authorities()[by_name[key]]
    return None


@lru_cache(maxsize=1)
def _countries_by_name() -> dict[str, str]:
    names = {}
    for country in iso3166.countries:
        for name in (country.name, country.apolitical_name):
            names.setdefault(fold(name), country.alpha2)
        names.setdefault(fold(country.name.split(",")[0]), country.alpha2)
    names.update(COUNTRY_ALIASES)
    return names


def country_name(code: str | None) -> str:
    code = (code or "").strip().upper()
    if not code:
        return ""
    if code in SHORT_NAMES:
        return SHORT_NAMES[code]
    try:
        return iso3166.countries_by_alpha2[code].name
    except KeyError:
        return code


def is_country(code: str | None) -> bool:
    return (code or "").strip().upper() in iso3166.countries_by_alpha2


def find_country(text: str | None) -> str:
    """The ISO 3166-1 alpha-2 code a country's code or name means, or ""."""
    text = (text or "").strip()
    if not text:
        return ""
    if len(text) == 2 and is_country(text):
        return text.upper()
    if len(text) == 3 and text.upper() in iso3166.countries_by_alpha3:
        return iso3166.countries_by_alpha3[text.upper()].alpha2
    return _countries_by_name().get(fold(text), "")


def countries() -> list[tuple[str, str]]:
    """(code, name) for every country, by name."""
    return sorted(((c.alpha2, country_name(c.alpha2)) for c in iso3166.countries), key=lambda pair: pair[1])


def place_from_text(text: str | None) -> tuple[str, str]:
    """(country code, authority code) that free text about a place names, as far as it
    can tell: an authority anywhere in the text's comma-separated parts, else a country."""
    parts = [part.strip() for part in str(text or "").split(",") if part.strip()]
    # A country named by name (not by a two-letter code, which free text uses for
    # states and counties too) outside the UK wins: "Boston, USA" is not Boston in Lincolnshire.
    named = [_countries_by_name().get(fold(part), "") for part in reversed(parts)]
    country = next((code for code in named if code), "")
    if country and country != UK:
        return country, ""
    for part in [str(text or "").strip(), *parts]:
        found = find_authority(part)
        if found:
            return UK, found.code
    return country, ""
