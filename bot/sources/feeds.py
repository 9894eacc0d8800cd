"""RSS/Atom polling: new entries become JSON files in the inbox, so they take the same ingest path.

- Conditional GET with the stored ETag / Last-Modified; a 304 costs nothing.
- feedparser parses the body; an entry with only a summary (no full content) has its link fetched
  and the article extracted with trafilatura (falling back to the summary if that fails).
- An entry whose enclosure or link is a PDF (typed application/pdf, or a .pdf URL) is downloaded into
  the inbox as a .pdf file, so index/pdf.py reads it like any other PDF brief.
- Entries already written are remembered per feed (feed_entries), so a feed that ignores
  conditional requests does not cause refetching; ingest deduplicates by id/content anyway.
- A failing feed backs off exponentially (poll × 2^failures, ≤ 6 h) and never stops the others;
  `on_failure_streak(url, error)` is called once per failure streak (admins get one message).
Telegram-free.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import html
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiohttp
import feedparser

from bot.events import FeedState, FeedStore

__all__ = ["FeedPoller", "FeedResult", "MAX_BACKOFF_SECONDS"]

_LOG = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 6 * 3600
_MIN_CONTENT_WORDS = 60
_USER_AGENT = "briefbot/0.1 (+feed poller)"
_PDF_TYPE = "application/pdf"


@dataclass
class FeedResult:
    url: str
    status: int | None = None
    written: list[Path] = field(default_factory=list)
    error: str | None = None
    skipped: bool = False


def _html_to_text(markup: str) -> str:
    import trafilatura

    text = trafilatura.extract(f"<html><body><article>{markup}</article></body></html>", include_comments=False,
                               favor_recall=True) if "<" in markup else None
    if not text:
        text = re.sub(r"<[^>]+>", " ", markup)
        text = html.unescape(text)
    return "\n\n".join(p.strip() for p in re.split(r"\n\s*\n", text) if p.strip())


def _extract_page(page: str, url: str) -> str | None:
    import trafilatura

    return trafilatura.extract(page, url=url, include_comments=False, include_tables=False) or None


def _pdf_urls(entry: Any) -> list[str]:
    """The entry's enclosures and links that are PDFs by declared type or by a .pdf path."""
    links = [*(entry.get("enclosures") or []), *(entry.get("links") or [])]
    urls = [link.get("href") for link in links
            if link.get("href") and (link.get("type") == _PDF_TYPE or _is_pdf_path(link["href"]))]
    if entry.get("link") and _is_pdf_path(entry["link"]):
        urls.append(entry["link"])
    return list(dict.fromkeys(urls))


def _is_pdf_path(url: str) -> bool:
    return urlparse(url).path.lower().endswith(".pdf")


def _entry_date(entry: Any) -> str | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return time.strftime("%Y-%m-%d", time.gmtime(calendar.timegm(value)))
    return None


class FeedPoller:
    def __init__(self, store: FeedStore, inbox: Path, poll_seconds: float,
                 on_failure_streak: Callable[[str, str], None] | None = None, timeout: float = 20.0) -> None:
        self.store = store
        self.inbox = inbox
        self.poll_seconds = poll_seconds
        self.on_failure_streak = on_failure_streak
        self.timeout = timeout

    async def poll(self, urls: list[str], now: float | None = None) -> list[FeedResult]:
        """Poll every due feed concurrently; returns one result per feed."""
        now = time.time() if now is None else now
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": _USER_AGENT}) as session:
            return list(await asyncio.gather(*(self._poll_one(session, url, now) for url in urls)))

    async def _poll_one(self, session: aiohttp.ClientSession, url: str, now: float) -> FeedResult:
        state = self.store.feed_state(url)
        result = FeedResult(url)
        if state.next_poll_at > now:
            result.skipped = True
            return result
        try:
            headers = {}
            if state.etag:
                headers["If-None-Match"] = state.etag
            if state.modified:
                headers["If-Modified-Since"] = state.modified
            async with session.get(url, headers=headers) as response:
                result.status = response.status
                if response.status == 304:
                    self._succeeded(state, state.etag, state.modified)
                    return result
                if response.status >= 400:
                    raise RuntimeError(f"HTTP {response.status}")
                body = await response.read()
                etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
            parsed = await asyncio.to_thread(feedparser.parse, body)
            if parsed.bozo and not parsed.entries:
                raise RuntimeError(f"not a feed ({parsed.get('bozo_exception')!r})")
            result.written = await self._write_entries(session, url, parsed)
            self._succeeded(state, etag, modified)
        except Exception as error:  # any failure of one feed: back off, report once, carry on
            result.error = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            self._failed(state, result.error)
        return result

    def _succeeded(self, state: FeedState, etag: str | None, modified: str | None) -> None:
        self.store.save_feed_state(FeedState(state.url, etag, modified, 0, 0.0, False))

    def _failed(self, state: FeedState, error: str) -> None:
        failures = state.failures + 1
        delay = min(self.poll_seconds * 2 ** failures, MAX_BACKOFF_SECONDS)
        report = not state.reported
        self.store.save_feed_state(FeedState(state.url, state.etag, state.modified, failures, time.time() + delay, True),
                                   error)
        _LOG.warning("feed %s failed (%s); %d in a row, next try in %.0fs", state.url, error, failures, delay)
        if report and self.on_failure_streak:
            self.on_failure_streak(state.url, error)

    async def _write_entries(self, session: aiohttp.ClientSession, url: str, parsed: Any) -> list[Path]:
        seen = self.store.seen_entries(url)
        source = (parsed.feed.get("title") or "").strip() or None
        written, done = [], []
        for entry in parsed.entries:
            entry_id = str(entry.get("id") or entry.get("link") or entry.get("title") or "").strip()
            if not entry_id or entry_id in seen:
                continue
            digest = hashlib.sha256((url + "\n" + entry_id).encode()).hexdigest()[:16]
            pdf = await self._pdf(session, entry, entry_id)
            record = None if pdf else await self._record(session, entry, entry_id, source)
            done.append(entry_id)
            if pdf:
                written.append(self._write(f"feed-{digest}.pdf", pdf))
            elif record is not None:
                written.append(self._write(f"feed-{digest}.json", record))
        self.store.mark_entries_seen(url, done)
        return written

    async def _pdf(self, session: aiohttp.ClientSession, entry: Any, entry_id: str) -> bytes | None:
        """The entry's PDF, if it links one and the server sends a PDF (else the entry is read as HTML)."""
        for link in _pdf_urls(entry):
            try:
                async with session.get(link) as response:
                    body = await response.read() if response.status < 400 else b""
                    if response.content_type == _PDF_TYPE or body.startswith(b"%PDF-"):
                        return body
            except Exception as error:
                _LOG.info("feed entry %s: cannot fetch PDF %s (%r)", entry_id, link, error)
        return None

    async def _record(self, session: aiohttp.ClientSession, entry: Any, entry_id: str,
                      source: str | None) -> dict[str, Any] | None:
        link = entry.get("link")
        content = "\n\n".join(c.get("value", "") for c in entry.get("content", []) or [])
        summary = entry.get("summary", "") or ""
        body = _html_to_text(content) if content.strip() else ""
        if len(body.split()) < _MIN_CONTENT_WORDS and link:
            try:
                async with session.get(link) as response:
                    if response.status < 400:
                        page = await response.text(errors="replace")
                        extracted = await asyncio.to_thread(_extract_page, page, link)
                        body = extracted or body
            except Exception as error:
                _LOG.info("feed entry %s: cannot fetch %s (%r); using its summary", entry_id, link, error)
        if not body.strip():
            body = _html_to_text(summary) if summary.strip() else ""
        if not body.strip():
            return None
        return {"id": entry_id, "title": (entry.get("title") or "").strip() or None, "body": body,
                "published_at": _entry_date(entry), "url": link, "source": source,
                "author": entry.get("author")}

    def _write(self, name: str, content: dict[str, Any] | bytes) -> Path:
        """A JSON record or a PDF's bytes; atomic: a hidden temp file (ignored by the inbox), then renamed."""
        self.inbox.mkdir(parents=True, exist_ok=True)
        tmp = self.inbox / f".{name}.tmp"
        if isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            tmp.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
        # Complete on arrival: back-date it so the inbox's "still being written?" wait does not apply.
        past = time.time() - 3600
        os.utime(tmp, (past, past))
        target = self.inbox / name
        os.replace(tmp, target)
        return target
