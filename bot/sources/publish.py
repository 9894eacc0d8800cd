"""Publishing from Telegram, Telegram-free: channel posts and operators' documents and links become briefs.

The policy (what a post is, its title, id and link; what a bot may download) and `Publisher`, the
service the thin handlers in bot/sources/handlers.py call:
- a post in a source channel → a file in `<data_dir>/articles/telegram/` named after channel and
  message (text → `.txt` with the title as its first line; essentially one link → the fetched page;
  a document → itself), published with the post's id, channel, t.me link and date through
  `Engine.publish`: an edited post replaces its brief and keeps its place in the alert queue, so it
  alerts nobody a second time;
- an operator's document or link → saved with its extension and ingested like any file
  (`Engine.ingest`); an upload that adds nothing (rejected, already indexed) is not kept;
- /remove → `Engine.remove` (by article id or t.me link), and its alerts not yet sent are withdrawn.
Index writes run on the publisher's own thread, one at a time and in arrival order (so an edit lands
after its post): questions keep being answered from the current generation meanwhile, however long a
write takes. New briefs are announced to the alerts at once.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.events import BriefsPublished
from bot.sources.inbox import unique_destination
from index.brief_rules import derive_title
from index.engine import Engine
from index.ingest import IngestReport, Provenance
from index.parse import SUPPORTED_SUFFIXES

__all__ = ["Attachment", "Post", "Brief", "Outcome", "Publisher", "Sources", "NotPublished", "Download",
           "DOWNLOAD_LIMIT", "single_link", "title_and_body", "document_problem", "safe_file_name", "removal_keys",
           "fetch", "MAX_REDIRECTS"]

# Telegram's Bot API hands bots files up to 20 MB (getFile); bigger ones are refused before any attempt.
DOWNLOAD_LIMIT = 20 * 1024 * 1024
LINK_POST_MAX_WORDS = 12  # words besides the URL for a post to count as "just a link"
TITLE_MAX_CHARS = 200
FETCH_TIMEOUT_SECONDS = 20.0
MAX_REDIRECTS = 5
_USER_AGENT = "briefbot/0.1 (+link publisher)"
_SUFFIX_BY_TYPE = {"text/html": ".html", "application/xhtml+xml": ".html", "text/plain": ".txt",
                   "text/markdown": ".md", "application/json": ".json", "application/pdf": ".pdf"}
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_TME = re.compile(r"^(?:https?://)?(?:www\.)?(?:t|telegram)\.me/(c/\d+|[A-Za-z][A-Za-z0-9_]{3,31})/(\d+)/?(?:\?.*)?$",
                  re.IGNORECASE)

Download = Callable[[Path], Awaitable[None]]  # fetches the announced file to a path
T = TypeVar("T")


class NotPublished(Exception):
    """Why something cannot become a brief (too big, download refused, page unreachable): shown as is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Attachment:
    """A document as Telegram announces it, before any download."""

    file_id: str
    name: str  # a safe file name with its extension (see safe_file_name)
    size: int | None


@dataclass(frozen=True)
class Post:
    """One channel post (or its edit) without Telegram types."""

    chat_id: int
    message_id: int
    date: datetime
    text: str  # the text, or a photo's, video's or document's caption
    bold_lead: str | None = None  # a bold run that opens the text: the title
    links: tuple[str, ...] = ()  # URLs of its url and text_link entities
    attachment: Attachment | None = None
    channel_title: str | None = None
    channel_username: str | None = None

    @property
    def brief_id(self) -> str:
        """Stable across edits: channel and message."""
        return f"tg:{self.chat_id}:{self.message_id}"

    @property
    def link(self) -> str | None:
        """t.me link of a public channel's post (t.me/c/… for a private channel's members)."""
        if self.channel_username:
            return f"https://t.me/{self.channel_username}/{self.message_id}"
        internal = str(self.chat_id)
        return f"https://t.me/c/{internal[4:]}/{self.message_id}" if internal.startswith("-100") else None


@dataclass(frozen=True)
class Brief:
    """An article publishing touched: its id and title."""

    id: str
    title: str


@dataclass(frozen=True)
class Outcome:
    """What one publish, upload or removal did: for the operator's reply or the log."""

    added: tuple[Brief, ...] = ()
    replaced: tuple[Brief, ...] = ()
    removed: tuple[Brief, ...] = ()
    already: int = 0  # articles or files that were indexed before
    rejected: tuple[str, ...] = ()  # reasons
    passages: int = 0
    audience: int = 0  # chats that get an alert

    @classmethod
    def of(cls, report: IngestReport) -> Outcome:
        rejected = tuple(r.reason if r.line is None else f"line {r.line}: {r.reason}" for r in report.rejected)
        return cls(added=tuple(Brief(a.id, a.title) for a in report.added),
                   replaced=tuple(Brief(a.id, a.title) for a in report.replaced),
                   already=len(report.duplicates) + report.unchanged_files, rejected=rejected, passages=report.chunks)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed)


@dataclass(frozen=True)
class Sources:
    """The source channels (BRIEFBOT_SOURCE_CHANNELS): ids, and usernames compared case-insensitively as Telegram does."""

    ids: frozenset[int] = frozenset()
    usernames: frozenset[str] = frozenset()

    @classmethod
    def of(cls, channels: Sequence[int | str]) -> Sources:
        return cls(frozenset(c for c in channels if isinstance(c, int)),
                   frozenset(c.lower() for c in channels if isinstance(c, str)))

    def includes(self, chat_id: int, username: str | None) -> bool:
        return chat_id in self.ids or (username or "").lower() in self.usernames


# --------------------------------------------------------------------------- policy


def single_link(text: str, links: Sequence[str]) -> str | None:
    """The URL of a post that is essentially one link: one distinct web URL and at most a few other words."""
    urls = list(dict.fromkeys(u for u in map(_web_url, links) if u))
    if len(urls) != 1 or len(_URL.sub(" ", text).split()) > LINK_POST_MAX_WORDS:
        return None
    return urls[0]


def _web_url(url: str) -> str | None:
    """An http(s) URL from a url or text_link entity (Telegram links bare domains too); None for mailto: and the like."""
    if re.match(r"^https?://\S+$", url, re.IGNORECASE):
        return url
    return f"http://{url}" if re.match(r"^[\w-]+(?:\.[\w-]+)+(?:[/?#]\S*)?$", url) else None


def title_and_body(text: str, bold_lead: str | None = None) -> tuple[str, str]:
    """A post's title (its leading bold run, else its first line) and the rest as the body.

    A post of one paragraph is its own body, titled by its first sentence.
    """
    text = text.strip()
    lead = (bold_lead or "").strip()
    if lead and text.startswith(lead):
        title, body = lead, text[len(lead):].lstrip(" \t:.,;|–—-").strip()
    else:
        first, _, rest = text.partition("\n")
        title, body = first.strip(), rest.strip()
    if not body or len(title) > TITLE_MAX_CHARS:
        return derive_title(text), text
    return title, body


def document_problem(attachment: Attachment, supported: frozenset[str]) -> str | None:
    """Why a document is refused before downloading it (too big for a bot, a kind nobody reads), if it is."""
    if attachment.size is not None and attachment.size > DOWNLOAD_LIMIT:
        return (f"{attachment.name} is {attachment.size / 2**20:.1f} MB; Telegram lets bots download files "
                f"up to {DOWNLOAD_LIMIT // 2**20} MB. Split it, or put it in the inbox folder.")
    suffix = Path(attachment.name).suffix.lower()
    if suffix not in supported:
        return f"{attachment.name}: '{suffix or 'no extension'}' files are not read; send one of {' '.join(sorted(supported))}"
    return None


def safe_file_name(name: str | None, mime_type: str | None) -> str:
    """A file name that cannot leave its folder, keeping the extension (from the MIME type when there is none)."""
    base = Path((name or "").replace("\\", "/")).name
    stem = re.sub(r"[^\w.-]+", "_", Path(base).stem)[:80].strip("._") or "document"
    suffix = Path(base).suffix.lower() or _SUFFIX_BY_TYPE.get((mime_type or "").lower(), "")
    return stem + (suffix if re.fullmatch(r"\.[a-z0-9]{1,10}", suffix) else "")


def removal_keys(target: str) -> list[str]:
    """What /remove matches: the article id as given, and a t.me post link in its canonical form."""
    target = target.strip().strip("<>")
    match = _TME.match(target)
    return [target] if not match else list(dict.fromkeys([target, f"https://t.me/{match[1]}/{match[2]}"]))


# --------------------------------------------------------------------------- the service


class Publisher:
    """Turns posts, uploads and links into briefs through the engine (on its own writer thread) and tells the alerts."""

    def __init__(self, engine: Engine, folder: Path, sources: Sources, alerts: BriefsPublished | None = None,
                 supported: frozenset[str] = SUPPORTED_SUFFIXES, private_links: bool = False) -> None:
        self._engine = engine
        self._private_links = private_links  # links may lead into the bot's own network (BRIEFBOT_PUBLISH_PRIVATE_LINKS)
        self._folder = folder
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="publish")
        self.sources = sources
        self._alerts = alerts
        # The parser's kinds: a .pdf is accepted the moment index.parse reads PDFs.
        self.supported = supported

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writer, partial(function, *args))

    def close(self) -> None:
        self._writer.shutdown(wait=True, cancel_futures=True)

    async def post(self, post: Post, download: Download) -> Outcome:
        """A source channel's post (new or edited) as a brief with the post's id, channel, link and date."""
        try:
            path = await self._post_file(post, download)
        except NotPublished as refusal:
            return Outcome(rejected=(refusal.reason,))
        if path is None:
            return Outcome()  # nothing to read: a photo without caption, a sticker, a poll
        stamp = Provenance(post.brief_id, post.channel_title, post.link, post.date.date())
        outcome = await self._finish(await self._run(self._engine.publish, [path], stamp))
        if outcome.rejected and not outcome.changed and not outcome.already:
            path.unlink(missing_ok=True)  # a post that never became a brief leaves no file behind
        return outcome

    async def document(self, attachment: Attachment, download: Download) -> Outcome:
        """An operator's file, saved with its extension and ingested like any file."""
        problem = document_problem(attachment, self.supported)
        if problem:
            return Outcome(rejected=(problem,))
        target = unique_destination(self._folder / "uploads", attachment.name)
        try:
            await _download_to(target, download)
        except NotPublished as refusal:
            return Outcome(rejected=(refusal.reason,))
        return _keep_if_changed(await self._finish(await self._run(self._engine.ingest, [target])), target)

    async def link(self, url: str) -> Outcome:
        """An operator's link: the page is fetched and ingested like a saved page."""
        try:
            body, suffix = await fetch(url, private_ok=self._private_links)
        except NotPublished as refusal:
            return Outcome(rejected=(refusal.reason,))
        host = re.sub(r"[^\w.-]+", "_", urlsplit(url).hostname or "page")
        target = _write(unique_destination(self._folder / "uploads", host + suffix, body), body)
        report = await self._run(self._engine.publish, [target], Provenance(url=url))
        return _keep_if_changed(await self._finish(report), target)

    async def remove(self, target: str) -> Outcome:
        """/remove <article id or t.me link>: out of the index, and its unsent alerts withdrawn."""
        removed = await self._run(self._engine.remove, removal_keys(target))
        if removed and self._alerts:
            await self._alerts.withdraw([a.id for a in removed])
        return Outcome(removed=tuple(Brief(a.id, a.title) for a in removed))

    async def _post_file(self, post: Post, download: Download) -> Path | None:
        """The post as a file in the article store, named after channel and message (so an edit overwrites it)."""
        stem = f"{post.chat_id}_{post.message_id}"
        if post.attachment:
            problem = document_problem(post.attachment, self.supported)
            if problem:
                raise NotPublished(problem)
            return await _download_to(self._folder / (stem + Path(post.attachment.name).suffix.lower()), download)
        url = single_link(post.text, post.links)
        if url:
            body, suffix = await fetch(url, private_ok=self._private_links)
            return _write(self._folder / (stem + suffix), body)
        if not post.text.strip():
            return None
        title, text = title_and_body(post.text, post.bold_lead)
        return _write(self._folder / f"{stem}.txt", f"{title}\n\n{text}\n".encode())

    async def _finish(self, report: IngestReport) -> Outcome:
        """The outcome, with the alerts of new briefs queued now rather than at the next poll."""
        outcome = Outcome.of(report)
        if outcome.changed and self._alerts:
            audience = await self._alerts.announce([b.id for b in outcome.added + outcome.replaced])
            outcome = replace(outcome, audience=audience if outcome.added else 0)
        return outcome


async def fetch(url: str, timeout: float = FETCH_TIMEOUT_SECONDS, private_ok: bool = False) -> tuple[bytes, str]:
    """A linked document (≤ DOWNLOAD_LIMIT) and the file suffix its content type calls for.

    Unless `private_ok`, every hop (the link and each redirect) must lead to a public internet address:
    a post must not make the bot read its own host, its network or a cloud metadata service.
    """
    resolver = None if private_ok else _PublicResolver()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout), headers={"User-Agent": _USER_AGENT},
                                         connector=aiohttp.TCPConnector(resolver=resolver)) as session:
            for _ in range(MAX_REDIRECTS + 1):
                if not private_ok:
                    _refuse_private_literal(url)
                async with session.get(url, allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                        url = urljoin(url, response.headers["Location"])
                        continue
                    return await _document(response)
            raise NotPublished(f"the link redirects more than {MAX_REDIRECTS} times")
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        raise NotPublished(f"cannot fetch the link ({type(error).__name__})") from error


async def _document(response: aiohttp.ClientResponse) -> tuple[bytes, str]:
    if response.status >= 400:
        raise NotPublished(f"the link answered HTTP {response.status}")
    suffix = _SUFFIX_BY_TYPE.get(response.content_type)
    if suffix is None:
        raise NotPublished(f"the link leads to {response.content_type or 'something'}, not a page or a document")
    body = await response.content.read(DOWNLOAD_LIMIT + 1)
    if len(body) > DOWNLOAD_LIMIT:
        raise NotPublished(f"the linked document is over {DOWNLOAD_LIMIT // 2**20} MB")
    return body, suffix


def _private(address: str) -> bool:
    """Loopback, private, link-local (cloud metadata), reserved: anything not on the public internet."""
    return not ipaddress.ip_address(address.split("%", 1)[0]).is_global


def _refuse_private_literal(url: str) -> None:
    """aiohttp connects to an IP-address host without asking the resolver, so those are checked here."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise NotPublished(f"the link is not http(s): {parts.scheme or 'no scheme'}")
    host = parts.hostname or ""
    try:
        literal = _private(host)
    except ValueError:
        return  # a name: _PublicResolver checks what it resolves to, at connect time
    if literal:
        raise NotPublished(f"the link points into a private network ({host}); only public addresses are fetched")


class _PublicResolver(AbstractResolver):
    """aiohttp's resolver, keeping only public addresses: the check and the connection use the same answer."""

    def __init__(self) -> None:
        self._resolver = aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        found = await self._resolver.resolve(host, port, family)
        public = [r for r in found if not _private(r["host"])]
        if not public:
            raise NotPublished(f"the link points into a private network ({host}); only public addresses are fetched")
        return public

    async def close(self) -> None:
        await self._resolver.close()


def _keep_if_changed(outcome: Outcome, upload: Path) -> Outcome:
    """An upload that added nothing (rejected, already indexed) is not kept."""
    if not outcome.changed:
        upload.unlink(missing_ok=True)
    return outcome


async def _download_to(target: Path, download: Download) -> Path:
    """Download beside the target and rename: a failed download leaves nothing behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    try:
        await download(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _write(target: Path, data: bytes) -> Path:
    """Atomically: an ingest never reads half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    partial.write_bytes(data)
    os.replace(partial, target)
    return target
