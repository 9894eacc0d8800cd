"""Push alerts, Telegram-free: the alert cycle (feeds → inbox → ingest → match → outbox) and its policy.

`AlertService.cycle` polls feeds (async HTTP), then in a worker thread ingests the inbox and enqueues
every article with `seq` above the high-water mark — which covers the inbox, the feeds AND
`briefbot ingest` run by an operator (any new generation of the index). The outbox sender
(bot/alerts/outbox.py: pacing and the exactly-once argument) delivers what is queued through a transport.
Messages are rendered by bot/alerts/render.py; Telegram's side is bot/alerts/handlers.py.

Backlog policy (enqueue time): a brief is pushed to a chat only if it was ingested after the
subscription was made; a brief published more than `max_alert_age_days` ago is archived silently;
a near-duplicate of an announced brief (bot/alerts/topics.py) is announced to nobody; more than
`alert_burst` new briefs for one chat in one cycle become ONE digest-style message.
"""

from __future__ import annotations

import asyncio
import html
import json
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.alerts.outbox import OutboxSender, Pacing, Transport
from bot.alerts.render import brief_info, clip, render_alert, render_collection
from bot.alerts.store import AlertStore
from bot.alerts.topics import NewBrief, TopicMatcher, find_near_duplicate, load_new_briefs, title_key
from bot.sources.intake import FeedPoller, process_inbox  # the one way into sources/ (see bot/events.py)

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.config import BotConfig
    from index.engine import Engine

__all__ = ["AlertService"]


class AlertService:
    """Everything the jobs and handlers share. Methods ending in _sync run in a worker thread."""

    def __init__(self, engine: Engine, config: BotConfig, store: AlertStore | None = None,
                 pacing: Pacing | None = None, inbox_settle_seconds: float = 1.0) -> None:
        self.engine = engine
        self.config = config
        self.data_dir = Path(engine.data_dir)
        self.store = store or AlertStore(self.data_dir / "state" / "alerts.sqlite")
        self.inbox = Path(config.inbox)
        self.articles_dir = self.data_dir / "articles"
        self.inbox_settle_seconds = inbox_settle_seconds
        self.burst = int(getattr(config, "alert_burst", 5))
        self.feeds = FeedPoller(self.store, self.inbox, config.poll_seconds, self._feed_failing)
        self.pacing = pacing or Pacing()
        self.sender: OutboxSender | None = None
        self.sender_task: asyncio.Task[None] | None = None
        self.matcher: TopicMatcher | None = None
        self._cycle_lock = asyncio.Lock()
        self.last_report: dict[str, Any] = {}
        # Drawn here, before the first update can be handled: drawn lazily, a brief published while the
        # first cycle was still busy (a slow feed, a model loading) fell behind the line and was never alerted.
        self.draw_backlog_line()

    # ------------------------------------------------------------------ cycle

    async def cycle(self) -> dict[str, Any]:
        """One poll: feeds → inbox/ingest → enqueue; returns what happened (for logs and tests)."""
        if self._cycle_lock.locked():
            return {"skipped": True}
        async with self._cycle_lock:
            report: dict[str, Any] = {}
            if self.config.feeds:
                results = await self.feeds.poll(list(self.config.feeds))
                report["feeds"] = {r.url: (r.status, len(r.written), r.error) for r in results}
            report.update(await asyncio.to_thread(self.cycle_sync))
            if self.sender:
                self.sender.wake()
            self.last_report = report
            return report

    def cycle_sync(self) -> dict[str, Any]:
        inbox = process_inbox(self.engine, self.inbox, self.articles_dir, self.inbox_settle_seconds)
        report: dict[str, Any] = {"inbox_added": len(inbox.added), "inbox_rejected": dict(inbox.rejected),
                                  "inbox_duplicates": inbox.duplicates}
        report.update(self.enqueue_new_sync())
        return report

    async def announce(self, article_ids: Sequence[str]) -> int:
        """Queue alerts for briefs just published (not at the next poll); how many chats get one."""
        async with self._cycle_lock:
            await asyncio.to_thread(self.enqueue_new_sync)
        if self.sender:
            self.sender.wake()
        return self.store.audience(article_ids)

    async def withdraw(self, article_ids: Sequence[str]) -> int:
        """Removed briefs leave every alert, burst and digest not yet sent; how many deliveries."""
        return await asyncio.to_thread(self.store.withdraw, article_ids, _rerender)

    def _open_snapshot(self) -> Any:
        from index.errors import IndexMissingError
        from index.store import Snapshot

        try:
            return Snapshot.open(self.data_dir, self.engine.model_id)
        except IndexMissingError:
            return None

    def draw_backlog_line(self) -> int:
        """First start over an existing archive: everything already indexed is backlog, not news.

        Later starts keep the stored line, so nothing is alerted twice and nothing indexed while the
        bot was down is lost.
        """
        hwm = self.store.high_water_mark()
        if hwm is None:
            snapshot = self._open_snapshot()
            hwm = 0
            if snapshot is not None:
                hwm = snapshot.query("SELECT COALESCE(MAX(seq), 0) FROM articles")[0][0]
                snapshot.close()
            self.store.set_meta("hwm", str(hwm))
        return hwm

    def enqueue_new_sync(self) -> dict[str, Any]:
        """Match every article above the high-water mark and enqueue it, atomically with the new mark."""
        hwm = self.store.high_water_mark() or 0
        snapshot = self._open_snapshot()
        if snapshot is None:
            return {"new_briefs": 0}
        try:
            briefs = load_new_briefs(snapshot, hwm, limit=500)
            if not briefs:
                return {"new_briefs": 0}
            if self.matcher is None:
                # Topics are short texts, like questions: the query embedder (no torch in the bot process).
                self.matcher = TopicMatcher(lambda texts: self.engine.query_embedder.embed(list(texts)), None)
            self.matcher._coverage = snapshot.lexical.coverage  # the current generation's statistics
            return self._enqueue(briefs)
        finally:
            snapshot.close()

    def _enqueue(self, briefs: list[NewBrief]) -> dict[str, Any]:
        assert self.matcher is not None
        subs = self.store.subscriptions()
        by_chat: dict[int, list] = defaultdict(list)
        for sub in subs:
            by_chat[sub.chat_id].append(sub)
        self.matcher.prepare([s.topic for s in subs if s.topic])
        recent = self.store.recent_alerted()
        today = self.engine.today()
        max_age = timedelta(days=self.config.max_alert_age_days)
        per_chat: dict[int, list[dict[str, Any]]] = defaultdict(list)
        alerted: list[tuple[NewBrief, str | None]] = []
        stats: Counter[str] = Counter()
        for brief in briefs:
            duplicate = find_near_duplicate(brief, recent)
            alerted.append((brief, duplicate))
            if duplicate:
                stats["near_duplicates"] += 1
                continue
            recent.insert(0, (brief.id, title_key(brief.title), brief.first_vector))
            if brief.published_at and today - brief.published_at > max_age:
                stats["archived_old"] += 1
                continue
            info = None
            for chat_id, chat_subs in by_chat.items():
                eligible = [s for s in chat_subs if s.created_at <= brief.ingested_at + 1.0]
                if not eligible:
                    continue
                if any(s.topic is None for s in eligible) or any(
                        self.matcher.score(s.topic, brief).matches for s in eligible if s.topic):
                    info = info or brief_info(brief)
                    per_chat[chat_id].append({**info, "seq": brief.seq})
        now = time.time()
        with self.store.transaction() as db:
            for brief, duplicate in alerted:
                vector = brief.first_vector
                db.execute("INSERT OR IGNORE INTO alerted (article_id, seq, title_key, vector, duplicate_of, at) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           (brief.id, brief.seq, title_key(brief.title),
                            vector.astype("float32").tobytes() if vector is not None else None, duplicate, now))
            for chat_id, infos in per_chat.items():
                fresh = []
                for info in infos:
                    inserted = db.execute(
                        "INSERT OR IGNORE INTO deliveries (chat_id, article_id, seq, state, info, created_at) "
                        "VALUES (?, ?, ?, 'pending', ?, ?)", (chat_id, info["id"], info["seq"], json.dumps(info), now))
                    if inserted.rowcount:
                        fresh.append(info)
                        db.execute("INSERT OR IGNORE INTO buttons (short, article_id, title) VALUES (?, ?, ?)",
                                   (info["short"], info["id"], info["title"]))
                if not fresh:
                    continue
                mode = db.execute("SELECT mode FROM chats WHERE chat_id = ?", (chat_id,)).fetchone()
                if mode and mode[0] == "daily":
                    db.execute(f"UPDATE deliveries SET state = 'digest' WHERE chat_id = ? AND article_id IN "
                               f"({','.join('?' * len(fresh))})", (chat_id, *[i["id"] for i in fresh]))
                    stats["held_for_digest"] += len(fresh)
                    continue
                self._queue_messages(db, chat_id, fresh, _burst_heading(len(fresh)), now)
                stats["alerts"] += len(fresh)
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hwm', ?)", (str(max(b.seq for b in briefs)),))
        return {"new_briefs": len(briefs), "chats": len(per_chat), **stats}

    def _queue_messages(self, db: Any, chat_id: int, infos: list[dict[str, Any]], heading: str, now: float) -> None:
        """One message per brief, or one collapsed message for a burst; links deliveries to outbox rows."""
        if len(infos) > self.burst:
            text, markup = render_collection(infos, heading)
            groups = [(text, markup, infos)]
        else:
            groups = [(*render_alert(info), [info]) for info in infos]
        for text, markup, members in groups:
            kind = "alert" if len(members) == 1 else "burst"
            row_id = AlertStore.add_outbox(db, chat_id, kind, text, markup, now)
            db.execute(f"UPDATE deliveries SET state = 'queued', outbox_id = ? WHERE chat_id = ? AND article_id IN "
                       f"({','.join('?' * len(members))})", (row_id, chat_id, *[m["id"] for m in members]))

    # ------------------------------------------------------------------ digests

    def due_digests_sync(self, now: datetime | None = None) -> int:
        """Queue the daily digest of every chat whose local HH:MM has passed today; returns how many."""
        queued = 0
        for chat in self.store.digest_chats():
            try:
                zone = ZoneInfo(chat.tz or "UTC")
            except (ZoneInfoNotFoundError, ValueError):
                zone = ZoneInfo("UTC")
            local = (now or datetime.now(tz=zone)).astimezone(zone)
            if not chat.digest_time or local.strftime("%H:%M") < chat.digest_time.zfill(5):
                continue
            today = local.date().isoformat()
            if chat.last_digest == today:
                continue
            queued += self.flush_digest_sync(chat.chat_id, "Your daily digest", mark_day=today)
        return queued

    def flush_digest_sync(self, chat_id: int, heading: str, mark_day: str | None = None, single: bool = False) -> int:
        with self.store.transaction() as db:
            rows = db.execute("SELECT info FROM deliveries WHERE chat_id = ? AND state = 'digest' ORDER BY seq",
                              (chat_id,)).fetchall()
            infos = [json.loads(r[0]) for r in rows]
            if infos:
                if single or len(infos) > 1:
                    text, markup = render_collection(infos, _digest_heading(heading, len(infos)))
                    row_id = AlertStore.add_outbox(db, chat_id, "digest", text, markup)
                    db.execute("UPDATE deliveries SET state = 'queued', outbox_id = ? WHERE chat_id = ? AND state = 'digest'",
                               (row_id, chat_id))
                else:
                    self._queue_messages(db, chat_id, infos, heading, time.time())
            if mark_day:
                db.execute("UPDATE chats SET last_digest = ? WHERE chat_id = ?", (mark_day, chat_id))
        if infos and self.sender:
            self.sender.wake()
        return 1 if infos else 0

    # ------------------------------------------------------------------ feeds → admins

    def _feed_failing(self, url: str, error: str) -> None:
        text = (f"⚠️ <b>Feed failing</b>\n{html.escape(url)}\n<code>{html.escape(clip(error, 300))}</code>\n"
                "It is retried with back-off; you get this once per failure streak.")
        for admin in self.config.admin_ids:
            self.store.enqueue_message(admin, "admin", text)

    # ------------------------------------------------------------------ sending

    def start_sender(self, application: Application, transport: Transport) -> None:
        """Run the outbox sender as an application task (once; again if it ended), sending with `transport`."""
        if self.sender is None:
            self.sender = OutboxSender(self.store, transport, self.pacing)
        if self.sender_task is None or self.sender_task.done():
            self.sender_task = application.create_task(self.sender.run(lambda: application.running),
                                                       name="alerts-outbox")


def _burst_heading(count: int) -> str:
    return f"{count} new briefs"


def _digest_heading(heading: str, count: int) -> str:
    return f"{heading} — {count} new brief{'s' * (count > 1)}"


def _rerender(kind: str, infos: list[dict[str, Any]]) -> tuple[str, dict[str, Any] | None]:
    """A burst or digest not yet sent, without the briefs removed from it (a single alert has none left: it is
    cancelled instead)."""
    heading = _burst_heading(len(infos)) if kind == "burst" else _digest_heading("Your digest", len(infos))
    return render_collection(infos, heading)
