"""Turn one input file (.txt/.md brief, .html page, .json/.jsonl records, .pdf) into cleaned Articles.

This module chooses the reader by the file's kind and reads the text formats itself; PDFs go to
index.pdf. Both readers apply the brief rules of index.brief_rules, which imports neither of them.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from index.brief_rules import (
    article_id,
    body_text,
    brief_article,
    clean_line,
    content_key,
    derive_title,
    detect_publisher,
    parse_date,
    pop_citations,
    split_header,
)
from index.clean import find_byline, normalize_whitespace, repair_mojibake, split_furniture
from index.errors import RejectedInput
from index.pdf import parse_pdf
from index.records import Article

__all__ = ["SUPPORTED_SUFFIXES", "MAX_FILE_BYTES", "ParsedFile", "parse_file"]

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".pdf"})
MAX_FILE_BYTES = 20 * 1024 * 1024
_TEXT_FIELDS = ("body", "text", "content")
_MIN_PROSE_WORDS = 8


@dataclass(frozen=True)
class ParsedFile:
    """The articles one file yielded, and the records inside it that were rejected."""

    articles: tuple[Article, ...] = ()
    rejected: tuple[RejectedInput, ...] = ()


# ---------------------------------------------------------------------------
# Bytes -> text
# ---------------------------------------------------------------------------

_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"\xd0\xcf\x11\xe0")
_BINARY_REASON = "binary file (not text); convert it to .txt/.html/.json/.pdf"
_PDF_MAGIC = b"%PDF-"


def _check_size(path: Path) -> None:
    """Reject unknown extensions and oversized files before reading them."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = " ".join(sorted(SUPPORTED_SUFFIXES))
        raise RejectedInput(str(path), f"unknown extension '{suffix or '(none)'}'; supported: {shown}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise RejectedInput(str(path), f"file is {_mb(size)} MB, over the {_mb(MAX_FILE_BYTES)} MB limit; split it")


def _mb(size: int) -> str:
    """Megabytes with one decimal when it matters: "80", "20.3"."""
    return f"{size / 2**20:.1f}".removesuffix(".0")


def _looks_binary(raw: bytes) -> bool:
    """Known binary signatures, NULs, or many control bytes in the first 64 KB."""
    if raw.startswith(_BINARY_MAGIC):
        return True
    head = raw[:65536]
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return head.count(0) > len(head) // 100 or controls > len(head) // 10


def _declared_charset(raw: bytes) -> str | None:
    """The charset an HTML page declares in its first 4 KB, if Python knows it."""
    match = re.search(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", raw[:4096], re.IGNORECASE)
    if not match:
        return None
    name = match.group(1).decode("ascii", "ignore").lower()
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _decode(raw: bytes, path: Path) -> str:
    """Bytes to str: BOM-marked UTF-16/UTF-8, UTF-8, a declared HTML charset, then cp1252."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16 is full of NULs, so it must be recognised before the binary test.
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise RejectedInput(str(path), "starts like UTF-16 but does not decode; save it as UTF-8") from None
    if _looks_binary(raw):
        raise RejectedInput(str(path), _BINARY_REASON)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = _declared_charset(raw) if path.suffix.lower() in {".html", ".htm"} else None
    for codec in [declared, "cp1252"] if declared else ["cp1252"]:
        try:
            return raw.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    raise RejectedInput(str(path), "not valid UTF-8 and not a known legacy encoding")


def _read_text(path: Path, raw: bytes) -> str:
    """Decoded text of a file's bytes (mojibake repair is left to each format)."""
    text = _decode(raw, path)
    if not text.strip():
        raise RejectedInput(str(path), "empty file")
    return text


# ---------------------------------------------------------------------------
# .html / .htm
# ---------------------------------------------------------------------------


def _parse_html(path: Path, text: str) -> Article:
    """An HTML page: trafilatura finds the article and its metadata, then the brief rules apply."""
    import trafilatura  # imported lazily: it is slow to import and only HTML needs it

    doc = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False, include_tables=True)
    raw_text = normalize_whitespace(repair_mojibake(getattr(doc, "text", None) or ""))
    if not raw_text or doc is None or isinstance(doc, dict):  # a Document, as without as_dict=True
        raise RejectedInput(str(path), "HTML page has no article text")
    title = clean_line(repair_mojibake(doc.title or ""))
    lines = raw_text.split("\n")
    if title and lines and content_key(lines[0]) == content_key(title):
        lines = lines[1:]  # trafilatura repeats the <h1> as the first line
    header = split_header(lines, title=title or None)
    rest, cited = pop_citations(header.rest)
    # trafilatura puts one paragraph per line; the engine's convention is a blank line between them.
    split = split_furniture("\n\n".join(line for line in body_text(rest, False).split("\n") if line))
    if not any(len(para.split()) >= _MIN_PROSE_WORDS for para in split.body.split("\n")):
        # The extractor falls back to menus and link lists; without one real paragraph it is not an article.
        raise RejectedInput(str(path), "HTML page has no article text")
    title = header.title or derive_title(split.body)
    return Article(
        id=article_id(title, split.body),
        title=title,
        body=split.body,
        highlights=header.highlights,
        published_at=parse_date(doc.date or "", whole=False) or header.published_at or cited,
        source=(doc.sitename or "").strip() or detect_publisher(raw_text),
        author=(doc.author or "").strip() or header.author or find_byline(split.furniture),
        url=(doc.url or "").strip() or None,
        path=str(path),
    )


# ---------------------------------------------------------------------------
# .json / .jsonl
# ---------------------------------------------------------------------------


def _text_field(record: dict[str, Any]) -> str:
    """The record's text from body/text/content (a list of paragraphs is joined)."""
    for key in _TEXT_FIELDS:
        value = record.get(key)
        if isinstance(value, list):
            value = "\n\n".join(str(part) for part in value if part)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _optional_str(value: Any) -> str | None:
    """A metadata field as a stripped string; lists (several authors) are joined."""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value if v)
    if value is None or isinstance(value, (dict, bool)):
        return None
    return normalize_whitespace(repair_mojibake(str(value))) or None


def _record_date(value: Any) -> date | None:
    """published_at/date as ISO date, ISO datetime or "Sep 23, 2025"."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
    except ValueError:
        return parse_date(value)


def _record_article(record: Any, path: Path) -> Article:
    """One JSON object as an Article; raises RejectedInput (path only) with the reason."""
    if not isinstance(record, dict):
        raise RejectedInput(str(path), f"record is a JSON {type(record).__name__}, not an object; wrap it in {{}}")
    split = split_furniture(normalize_whitespace(repair_mojibake(_text_field(record))))
    if not split.body:
        raise RejectedInput(str(path), "record has no text in body/text/content")
    title = _optional_str(record.get("title"))
    title = clean_line(title) if title else derive_title(split.body)
    raw_id = record.get("id")
    has_id = raw_id is not None and str(raw_id).strip() != ""
    return Article(
        id=str(raw_id).strip() if has_id else article_id(title, split.body),
        title=title,
        body=split.body,
        published_at=_record_date(record.get("published_at", record.get("date"))),
        source=_optional_str(record.get("source")),
        author=_optional_str(record.get("author")),
        url=_optional_str(record.get("url")),
        path=str(path),
    )


_TOO_DEEP = "invalid JSON (nested too deeply to be an article record); fix the file"


def _parse_json(path: Path, text: str) -> ParsedFile:
    """A .json file: one object or a list of objects; bad items are rejected, good ones kept."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise RejectedInput(str(path), f"invalid JSON ({err.msg}: line {err.lineno} col {err.colno}); fix the file")
    except RecursionError:  # json raises it, not JSONDecodeError, for arrays/objects nested thousands deep
        raise RejectedInput(str(path), _TOO_DEEP) from None
    if not isinstance(data, list):
        return ParsedFile(articles=(_record_article(data, path),))  # one object: its problem is the file's
    if not data:
        raise RejectedInput(str(path), "JSON list holds no records; add objects or remove the file")
    articles, rejected = [], []
    for number, record in enumerate(data, start=1):
        try:
            articles.append(_record_article(record, path))
        except RejectedInput as err:
            rejected.append(RejectedInput(str(path), f"record {number}: {err.reason}"))
    return ParsedFile(tuple(articles), tuple(rejected))


def _parse_jsonl(path: Path, text: str) -> ParsedFile:
    """A .jsonl file: one object per line; blank lines are skipped, bad lines rejected one by one."""
    articles, rejected = [], []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            reason = f"invalid JSON ({err.msg}: col {err.colno}); fix or remove the line"
            rejected.append(RejectedInput(str(path), reason, line=number))
            continue
        except RecursionError:
            rejected.append(RejectedInput(str(path), _TOO_DEEP, line=number))
            continue
        try:
            articles.append(_record_article(record, path))
        except RejectedInput as err:
            rejected.append(RejectedInput(str(path), err.reason, line=number))
    return ParsedFile(tuple(articles), tuple(rejected))


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def parse_file(path: Path) -> ParsedFile:
    """Parse one input file; whole-file problems raise RejectedInput, bad JSONL lines are listed."""
    path = Path(path)
    _check_size(path)
    raw = path.read_bytes()
    if not raw.strip():
        raise RejectedInput(str(path), "empty file")
    suffix = path.suffix.lower()
    if suffix == ".pdf" or raw.startswith(_PDF_MAGIC):
        return ParsedFile(articles=(parse_pdf(path, raw),))
    text = _read_text(path, raw)
    if suffix in {".json", ".jsonl"}:
        return (_parse_json if suffix == ".json" else _parse_jsonl)(path, text)
    if suffix in {".html", ".htm"}:
        return ParsedFile(articles=(_parse_html(path, text),))
    return ParsedFile(articles=(brief_article(path, text, markdown=suffix == ".md"),))
