"""The brief rules every reader applies, whatever the file's kind: a brief's text → Article (title, date
and byline lines, Highlights, citations, furniture, mojibake), and the keys, ids, dates and titles they share.

index.parse (.txt, .md, .html, .json) and index.pdf both build on this module; it imports neither.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from index.clean import (
    find_byline,
    normalize_whitespace,
    repair_mojibake,
    split_furniture,
    strip_inline_furniture,
)
from index.errors import RejectedInput
from index.records import Article

__all__ = [
    "BriefHeader",
    "content_key",
    "article_id",
    "parse_date",
    "derive_title",
    "clean_line",
    "detect_publisher",
    "split_header",
    "pop_citations",
    "body_text",
    "brief_article",
]

PUBLISHER = "Rare Earth Exchanges"
_TITLE_MAX = 80


# ---------------------------------------------------------------------------
# Keys, ids, dates
# ---------------------------------------------------------------------------


def content_key(text: str) -> str:
    """Normalised text for deduplication: NFKC, lowercase, word characters only, single spaces."""
    return " ".join(re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower()))


def article_id(title: str, body: str) -> str:
    """Content-derived id: the same article in any format or spacing gets the same id."""
    return hashlib.sha256(content_key(f"{title}\n{body}").encode("utf-8")).hexdigest()[:16]


_MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
         ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
         ("oct", "october"), ("nov", "november"), ("dec", "december")],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_DATE_PATTERNS = [
    re.compile(r"(?P<year>\d{4})-(?P<mnum>\d{1,2})-(?P<day>\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?"),
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})"),
    re.compile(r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})"),
]


def _date_from_match(match: re.Match[str]) -> date | None:
    """Build a date from a pattern match, or None if the parts are not a real date."""
    parts = match.groupdict()
    month = int(parts["mnum"]) if parts.get("mnum") else _MONTHS.get((parts.get("month") or "").lower())
    try:
        return date(int(parts["year"]), month or 0, int(parts["day"]))
    except ValueError:
        return None


def parse_date(text: str, *, whole: bool = True) -> date | None:
    """A date from "2025-09-23[T…]", "Sep 23, 2025", "September 23, 2025" or "23 September 2025"."""
    text = text.strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text) if whole else pattern.search(text)
        if match and (found := _date_from_match(match)):
            return found
    return None


# ---------------------------------------------------------------------------
# Shared text helpers
# ---------------------------------------------------------------------------


def clean_line(text: str) -> str:
    """One line of metadata (title, highlight) without inline furniture or extra spaces."""
    return normalize_whitespace(strip_inline_furniture(text)).replace("\n", " ")


def derive_title(text: str) -> str:
    """First sentence of the text, cut at a word boundary to at most 80 chars."""
    first = re.split(r"(?<=[.!?])\s+|\n", text.strip(), maxsplit=1)[0].strip()
    if len(first) <= _TITLE_MAX:
        return first
    cut = first[: _TITLE_MAX - 1].rsplit(" ", 1)[0] if " " in first[: _TITLE_MAX - 1] else first[: _TITLE_MAX - 1]
    return cut.rstrip(" ,;:-–—") + "…"


_PUBLISHER_MENTION = re.compile(r"\bRare Earth Exchanges\b|\bREEx\b", re.IGNORECASE)


def detect_publisher(text: str) -> str | None:
    """Rare Earth Exchanges if the page names it (body or furniture); the briefs carry no other mark."""
    return PUBLISHER if _PUBLISHER_MENTION.search(text) else None


# ---------------------------------------------------------------------------
# A brief's text: header lines, Highlights, citations, body
# ---------------------------------------------------------------------------

_HIGHLIGHTS = re.compile(r"^[#*_\s]*(?:key\s+)?(?:highlights|takeaways|key points)[*_\s]*:?[*_\s]*$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[•●▪‣◦*\-–]|\d{1,2}[.)])\s+(.+)$")
# In the body only symbol bullets are unified; numbered lists keep their numbers.
_BODY_BULLET = re.compile(r"^\s*[•●▪‣◦*\-–]\s+(.+)$")
_HEADING_MARK = re.compile(r"^#{1,6}\s+|^\*\*(.+)\*\*$")
_CITATION = re.compile(r"^citation:\s*(.+)$", re.IGNORECASE)
_DATE_PREFIX = re.compile(r"^(?:published|posted|updated|date)\s*:?\s*(?:on\s+)?", re.IGNORECASE)


@dataclass(frozen=True)
class BriefHeader:
    """What the top of a brief says before its body starts."""

    title: str
    published_at: date | None
    author: str | None
    highlights: tuple[str, ...]
    rest: list[str]


def _unmark(line: str) -> str:
    """A markdown heading or bold line as plain text."""
    return _HEADING_MARK.sub(lambda m: m.group(1) or "", line.strip()).strip()


def _take_highlights(lines: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """Bullets under a leading "Highlights" heading, and the lines after them."""
    i = next((k for k, line in enumerate(lines) if line.strip()), len(lines))
    if i == len(lines) or not _HIGHLIGHTS.match(lines[i]):
        return (), lines
    bullets: list[str] = []
    for k in range(i + 1, len(lines)):
        match = _BULLET.match(lines[k])
        if match:
            bullets.append(clean_line(match.group(1)))
        elif lines[k].strip():
            return tuple(b for b in bullets if b), lines[k:]
    return tuple(b for b in bullets if b), []


def split_header(lines: list[str], title: str | None = None) -> BriefHeader:
    """Title (unless given), date/byline lines, and Highlights from the top of a brief."""
    i = 0
    if title is None:
        while i < len(lines) and not lines[i].strip():
            i += 1
        title = clean_line(_unmark(lines[i])) if i < len(lines) else ""
        i += 1
    published, author = None, None
    while i < len(lines):
        line = _unmark(lines[i])
        if not line:
            i += 1
        elif published is None and (found := parse_date(_DATE_PREFIX.sub("", line))):
            published, i = found, i + 1
        elif author is None and (name := find_byline(line)):
            author, i = name, i + 1
        else:
            break
    highlights, rest = _take_highlights(lines[i:])
    return BriefHeader(title, published, author, highlights, rest)


def pop_citations(lines: list[str]) -> tuple[list[str], date | None]:
    """Remove "Citation:" lines (metadata about the cited piece) and return the date they give."""
    kept, cited = [], None
    for line in lines:
        match = _CITATION.match(line.strip())
        if match:
            cited = cited or parse_date(match.group(1), whole=False)
        else:
            kept.append(line)
    return kept, cited


def body_text(lines: list[str], markdown: bool) -> str:
    """Body lines as paragraphs, with markdown heading marks and bullet indents removed."""
    if markdown:
        lines = [_unmark(line) if _HEADING_MARK.match(line.strip()) else line for line in lines]
    lines = [f"• {m.group(1)}" if (m := _BODY_BULLET.match(line)) else line for line in lines]
    return "\n".join(lines)


def brief_article(path: Path, text: str, *, title: str | None = None, published_at: date | None = None,
                  markdown: bool = False) -> Article:
    """A brief's text as an Article: header lines, Highlights, citations, furniture, mojibake.

    `title` is given when the format knows it (a PDF's metadata or biggest line); `published_at` is
    used when the text carries no date line.
    """
    text = normalize_whitespace(repair_mojibake(text))
    header = split_header(text.split("\n"), title=title)
    rest, cited = pop_citations(header.rest)
    split = split_furniture(body_text(rest, markdown))
    if not header.title or not split.body:
        raise RejectedInput(str(path), "brief has no body text after the title; check the file")
    return Article(
        id=article_id(header.title, split.body),
        title=header.title,
        body=split.body,
        highlights=header.highlights,
        published_at=header.published_at or published_at or cited,
        source=detect_publisher(text),
        author=header.author or find_byline(split.furniture),
        path=str(path),
    )
