"""Push alerts: subscriptions, the alert cycle (feeds → inbox → ingest → match → outbox) and the sender.

`install(application, engine, config)` registers /subscribe /subscriptions /unsubscribe /digest and the
"Ask about this" button (handler group -1, stopping further handling) and the JobQueue jobs:
- "alerts-cycle" every `poll_seconds`: poll feeds (async HTTP), then in a worker thread ingest the
  inbox and enqueue every article with `seq` above the high-water mark — which covers the inbox, the
  feeds AND `briefbot ingest` run by an operator (any new generation of the index);
- "alerts-digest" every 30 s: daily digests that are due;
- the outbox sender, a long-running task (see bot/outbox.py for pacing and the exactly-once argument).

Backlog policy (enqueue time): a brief is pushed to a chat only if it was ingested after the
subscription was made; a brief published more than `max_alert_age_days` ago is archived silently;
a near-duplicate of an announced brief (bot/topics.py) is announced to nobody; more than
`alert_burst` new briefs for one chat in one cycle become ONE digest-style message.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import logging
import re
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.access import REFUSAL, chat_allowed, is_admin
from bot.feeds import FeedPoller
from bot.inbox import process_inbox
from bot.outbox import ChatGone, ChatMoved, OutboxSender, Pacing, PermanentError, RetryLater
from bot.subscriptions import AlertStore, OutboxRow, normalize_topic
from bot.topics import NewBrief, TopicMatcher, find_near_duplicate, load_new_briefs, title_key

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import Application, ContextTypes

    from bot.config import BotConfig
    from index.engine import Engine

__all__ = ["install", "AlertService", "COMMANDS", "render_alert", "render_collection", "CALLBACK_PREFIX"]

_LOG = logging.getLogger(__name__)
CALLBACK_PREFIX = "alert:ask:"
MAX_MESSAGE = 4096
MAX_TOPICS_PER_CHAT = 20
MAX_TOPIC_CHARS = 100
DIGEST_TICK_SECONDS = 30.0
COMMANDS = [
    ("subscribe", "Alerts for new briefs: /subscribe [topic]"),
    ("subscriptions", "List this chat's alert subscriptions"),
    ("unsubscribe", "Stop alerts: /unsubscribe [topic]"),
    ("digest", "One daily digest: /digest daily HH:MM [timezone] | off"),
]
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


# --------------------------------------------------------------------------- rendering (Telegram-free)


def _short(article_id: str) -> str:
    return hashlib.sha256(article_id.encode()).hexdigest()[:12]


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def central_sentences(body: str, n: int = 2) -> list[str]:
    """The brief's most central sentences (by shared vocabulary), in their original order."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z“\"'])", " ".join(body.split())) if len(s.split()) >= 6]
    if not sentences:
        return [_clip(body, 280)] if body.strip() else []
    words = [set(w for w in re.findall(r"[a-z]{4,}", s.lower())) for s in sentences]
    freq = Counter(w for ws in words for w in ws)
    scores = [sum(freq[w] for w in ws) / (len(ws) ** 0.5 or 1) for ws in words]
    best = sorted(sorted(range(len(sentences)), key=lambda i: -scores[i])[:n])
    return [sentences[i] for i in best]


def brief_info(brief: NewBrief) -> dict[str, Any]:
    """What a message needs about a brief, stored with the delivery (no engine needed at send time)."""
    lines = list(brief.highlights[:3]) or central_sentences(brief.body)
    return {"id": brief.id, "short": _short(brief.id), "title": brief.title, "source": brief.source,
            "published": brief.published_at.isoformat() if brief.published_at else None,
            "url": brief.url if brief.url and re.match(r"^https?://\S+$", brief.url) else None,
            "highlights": [_clip(line, 300) for line in lines[:3]]}


def _units(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji is 2); measured on the HTML (conservative)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _when(info: dict[str, Any]) -> str:
    published = info.get("published")
    return datetime.fromisoformat(published).strftime("%-d %b %Y") if published else ""


def _ask_button(info: dict[str, Any], label: str = "Ask about this") -> dict[str, str]:
    return {"text": label, "callback_data": CALLBACK_PREFIX + info["short"]}


def render_alert(info: dict[str, Any]) -> tuple[str, dict]:
    """One brief: title, publisher · date, 2–3 highlight lines, link, and the "Ask about this" button."""
    esc = html.escape
    parts = [f"🔔 <b>{esc(_clip(info['title'], 300))}</b>"]
    meta = " · ".join(x for x in (info.get("source") and _clip(info["source"], 80), _when(info)) if x)
    if meta:
        parts.append(f"<i>{esc(meta)}</i>")
    parts.append("")
    parts.extend(f"• {esc(line)}" for line in info.get("highlights", []))
    if info.get("url"):
        parts.append("")
        parts.append(f'<a href="{esc(info["url"], quote=True)}">Read the brief</a>')
    text = "\n".join(parts)
    if _units(text) > MAX_MESSAGE:  # cannot happen with the clips above; belt and braces
        text = f"🔔 <b>{esc(_clip(info['title'], 300))}</b>"
    return text, {"inline_keyboard": [[_ask_button(info)]]}


def render_collection(infos: list[dict[str, Any]], heading: str, max_items: int = 15) -> tuple[str, dict | None]:
    """Several briefs in one message (a burst, or the daily digest); ≤ 4,096 characters."""
    esc = html.escape
    shown = infos[:max_items]
    while True:
        lines = [f"🗞 <b>{esc(heading)}</b>", ""]
        for info in shown:
            meta = " · ".join(x for x in (info.get("source") and _clip(info["source"], 60), _when(info)) if x)
            title = esc(_clip(info["title"], 200))
            if info.get("url"):
                title = f'<a href="{esc(info["url"], quote=True)}">{title}</a>'
            lines.append(f"• <b>{title}</b>" + (f" — <i>{esc(meta)}</i>" if meta else ""))
        if len(infos) > len(shown):
            lines.append(f"…and {len(infos) - len(shown)} more (see /latest).")
        text = "\n".join(lines)
        if _units(text) <= MAX_MESSAGE or len(shown) <= 1:
            break
        shown = shown[:-1]
    buttons = [[_ask_button(info, f"Ask: {_clip(info['title'], 40)}")] for info in shown[:5]]
    return text, ({"inline_keyboard": buttons} if buttons else None)


# --------------------------------------------------------------------------- the service


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
        self.ensure_high_water_mark()
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
        """Removed briefs: cancel their alerts not yet sent (and those held for a digest); how many."""
        return await asyncio.to_thread(self.store.withdraw, article_ids)

    def _open_snapshot(self) -> Any:
        from index.errors import IndexMissingError
        from index.store import Snapshot

        try:
            return Snapshot.open(self.data_dir, self.engine.model_id)
        except IndexMissingError:
            return None

    def ensure_high_water_mark(self) -> int:
        """First start over an existing archive: everything already indexed is backlog, not news."""
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
        hwm = self.ensure_high_water_mark()
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
        stats = Counter()
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
                self._queue_messages(db, chat_id, fresh, f"{len(fresh)} new briefs", now)
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
                    text, markup = render_collection(infos, f"{heading} — {len(infos)} new brief{'s' * (len(infos) > 1)}")
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
        text = (f"⚠️ <b>Feed failing</b>\n{html.escape(url)}\n<code>{html.escape(_clip(error, 300))}</code>\n"
                "It is retried with back-off; you get this once per failure streak.")
        for admin in self.config.admin_ids:
            self.store.enqueue_message(admin, "admin", text)

    # ------------------------------------------------------------------ sending through Telegram

    def make_sender(self, application: Application) -> OutboxSender:
        from telegram import InlineKeyboardMarkup, LinkPreviewOptions
        from telegram.constants import ParseMode
        from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter

        bot = application.bot
        no_preview = LinkPreviewOptions(is_disabled=True)

        async def transport(row: OutboxRow) -> int | None:
            markup = InlineKeyboardMarkup.de_json(row.markup, bot) if row.markup else None
            try:
                message = await bot.send_message(row.chat_id, row.text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                                 link_preview_options=no_preview)
            except RetryAfter as exc:
                wait = exc._retry_after.total_seconds()  # noqa: SLF001 (the public attribute's type is deprecated)
                raise RetryLater(wait) from exc
            except Forbidden as exc:
                raise ChatGone(exc.message) from exc
            except ChatMigrated as exc:
                raise ChatMoved(exc.new_chat_id) from exc
            except BadRequest as exc:
                if "chat not found" in exc.message.lower():
                    raise ChatGone(exc.message) from exc
                raise PermanentError(exc.message) from exc
            return message.message_id

        self.sender = OutboxSender(self.store, transport, self.pacing)
        return self.sender

    def start_sender(self, application: Application) -> None:
        if self.sender is None:
            self.make_sender(application)
        if self.sender_task is None or self.sender_task.done():
            assert self.sender is not None
            self.sender_task = application.create_task(self.sender.run(lambda: application.running),
                                                       name="alerts-outbox")


# --------------------------------------------------------------------------- Telegram handlers


def _service(context: ContextTypes.DEFAULT_TYPE) -> AlertService:
    return context.application.bot_data["alerts"]


async def _may_manage(update: Update, context: ContextTypes.DEFAULT_TYPE, service: AlertService) -> bool:
    """Private chats: the user. Groups: the group's admins (and the bot's admins)."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or chat.type == "private":
        return True
    if message is not None and message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous group admin
    if user is None:
        return False
    if is_admin(service.config, user.id):
        return True
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except Exception as error:  # noqa: BLE001 - any failure means "not verified"
        _LOG.warning("alerts: cannot check admin status in %s: %r", chat.id, error)
        return False
    return member.status in ("creator", "administrator")


async def _reply(update: Update, text: str) -> None:
    from telegram.constants import ParseMode

    if update.effective_message is not None:
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, do_quote=False)


async def _guard(update: Update, context: ContextTypes.DEFAULT_TYPE, manage: bool) -> AlertService | None:
    service = _service(context)
    chat = update.effective_chat
    if chat is None or not chat_allowed(service.config, chat.id):
        await _reply(update, html.escape(REFUSAL))
        return None
    if manage and not await _may_manage(update, context, service):
        await _reply(update, "Only this group's admins can change its alerts.")
        return None
    return service


async def cmd_subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    from telegram.ext import ApplicationHandlerStop

    service = await _guard(update, context, manage=True)
    if service is not None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        topic = normalize_topic(" ".join(context.args or []))
        if topic and len(topic) > MAX_TOPIC_CHARS:
            await _reply(update, f"That topic is too long; keep it under {MAX_TOPIC_CHARS} characters.")
        elif topic and len([s for s in service.store.subscriptions(chat_id) if s.topic]) >= MAX_TOPICS_PER_CHAT:
            await _reply(update, f"This chat already follows {MAX_TOPICS_PER_CHAT} topics; /unsubscribe one first.")
        else:
            added = service.store.subscribe(chat_id, topic)
            what = f"briefs about <b>{html.escape(topic)}</b>" if topic else "every new brief"
            if added:
                await _reply(update, f"Subscribed: you will get an alert for {what}, from now on. "
                                     "/subscriptions lists them, /unsubscribe stops them.")
            else:
                await _reply(update, f"Already subscribed to {what}.")
    raise ApplicationHandlerStop


async def cmd_subscriptions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    from telegram.ext import ApplicationHandlerStop

    service = await _guard(update, context, manage=False)
    if service is not None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        subs = service.store.subscriptions(chat_id)
        if not subs:
            await _reply(update, "No subscriptions. /subscribe for every new brief, or /subscribe &lt;topic&gt;.")
        else:
            lines = ["<b>Alerts in this chat</b>"]
            lines += ["• every new brief" if s.topic is None else f"• {html.escape(s.topic)}" for s in subs]
            settings = service.store.chat_settings(chat_id)
            if settings.mode == "daily":
                lines.append(f"\nDelivered as one daily digest at {settings.digest_time} ({html.escape(settings.tz or 'UTC')}).")
            else:
                lines.append("\nDelivered instantly (/digest daily HH:MM for one message a day).")
            await _reply(update, "\n".join(lines))
    raise ApplicationHandlerStop


async def cmd_unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    from telegram.ext import ApplicationHandlerStop

    service = await _guard(update, context, manage=True)
    if service is not None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        topic = normalize_topic(" ".join(context.args or []))
        removed = service.store.unsubscribe(chat_id, topic)
        if topic:
            await _reply(update, f"Unsubscribed from <b>{html.escape(topic)}</b>." if removed
                         else f"This chat was not subscribed to <b>{html.escape(topic)}</b>; see /subscriptions.")
        else:
            await _reply(update, f"Unsubscribed from all alerts ({removed})." if removed else "This chat had no subscriptions.")
    raise ApplicationHandlerStop


async def cmd_digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    from telegram.ext import ApplicationHandlerStop

    service = await _guard(update, context, manage=True)
    if service is not None:
        await _digest(update, context, service)
    raise ApplicationHandlerStop


async def _digest(update: Update, context: ContextTypes.DEFAULT_TYPE, service: AlertService) -> None:
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    args = list(context.args or [])
    usage = "Usage: /digest daily HH:MM [timezone, e.g. Europe/Berlin] — or /digest off"
    if args[:1] == ["off"]:
        service.store.set_digest(chat_id, None, None)
        flushed = await asyncio.to_thread(service.flush_digest_sync, chat_id, "Held for your digest", None, True)
        await _reply(update, "Digest off: alerts arrive as soon as briefs land again."
                     + (" Sending what was waiting for the digest now." if flushed else ""))
        return
    if len(args) not in (2, 3) or args[0] != "daily" or not _HHMM.match(args[1]):
        await _reply(update, html.escape(usage))
        return
    hour, minute = (int(x) for x in args[1].split(":"))
    tz = args[2] if len(args) == 3 else "UTC"
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        await _reply(update, f"Unknown timezone “{html.escape(tz)}”; use a name like Europe/Berlin or UTC.")
        return
    hhmm = f"{hour:02d}:{minute:02d}"
    local = datetime.now(tz=zone)
    # Set after today's time has passed: the first digest is tomorrow's.
    last = local.date().isoformat() if local.strftime("%H:%M") >= hhmm else None
    service.store.set_digest(chat_id, hhmm, tz, last)
    await _reply(update, f"Daily digest at {hhmm} ({html.escape(tz)}): new briefs are collected and sent in one message. "
                         "/digest off switches back to instant alerts.")


async def on_ask_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Ask about this": the chat's conversation now refers to this brief, so follow-ups work."""
    from telegram.ext import ApplicationHandlerStop

    from bot.conversations import conversation_key
    from index.conversation import Turn

    service = _service(context)
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        raise ApplicationHandlerStop
    if not chat_allowed(service.config, chat.id):
        await query.answer(REFUSAL, show_alert=True)
        raise ApplicationHandlerStop
    found = service.store.button_article((query.data or "")[len(CALLBACK_PREFIX):])
    if found is None:
        await query.answer("That brief is no longer available.", show_alert=True)
        raise ApplicationHandlerStop
    article_id, title = found
    store = _conversations(context, service)
    key = conversation_key(chat.id, query.from_user.id if query.from_user else None, chat.type)
    conversation = store.load(key)
    conversation.add(Turn(question=title, resolved_query=title, article_ids=(article_id,)))
    store.save(key, conversation)
    await query.answer()
    from telegram.constants import ParseMode

    await context.bot.send_message(chat.id, f"Ask me anything about “{html.escape(title)}”", parse_mode=ParseMode.HTML)
    raise ApplicationHandlerStop


def _conversations(context: ContextTypes.DEFAULT_TYPE, service: AlertService) -> Any:
    from bot.conversations import ConversationStore

    store = context.application.bot_data.get("alerts_conversations")
    if store is None:
        store = ConversationStore(service.data_dir / "state" / "conversations.sqlite")
        context.application.bot_data["alerts_conversations"] = store
    return store


# --------------------------------------------------------------------------- jobs and install


async def _cycle_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    service = _service(context)
    service.start_sender(context.application)
    try:
        report = await service.cycle()
        if report.get("new_briefs") or report.get("inbox_rejected"):
            _LOG.info("alerts cycle: %s", report)
    except Exception:  # never let one bad cycle stop the schedule
        _LOG.exception("alerts cycle failed")


async def _digest_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    service = _service(context)
    try:
        await asyncio.to_thread(service.due_digests_sync)
    except Exception:
        _LOG.exception("digest tick failed")


async def _start_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    _service(context).start_sender(context.application)


def install(application: Application, engine: Engine, config: BotConfig, *, pacing: Pacing | None = None,
            inbox_settle_seconds: float = 1.0, digest_tick: float = DIGEST_TICK_SECONDS) -> AlertService:
    """Register alert commands and jobs on the application; returns the service (also in bot_data["alerts"])."""
    from telegram.ext import CallbackQueryHandler, CommandHandler

    service = AlertService(engine, config, pacing=pacing, inbox_settle_seconds=inbox_settle_seconds)
    application.bot_data["alerts"] = service
    group = -1  # before the bot's own handlers; each of ours stops further handling
    application.add_handler(CommandHandler("subscribe", cmd_subscribe), group)
    application.add_handler(CommandHandler("subscriptions", cmd_subscriptions), group)
    application.add_handler(CommandHandler("unsubscribe", cmd_unsubscribe), group)
    application.add_handler(CommandHandler("digest", cmd_digest), group)
    application.add_handler(CallbackQueryHandler(on_ask_button, pattern=f"^{re.escape(CALLBACK_PREFIX)}"), group)
    jobs = application.job_queue
    if jobs is None:
        raise RuntimeError("alerts need PTB's JobQueue: install python-telegram-bot[job-queue]")
    once = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    jobs.run_once(_start_job, 0, name="alerts-sender")
    jobs.run_repeating(_cycle_job, interval=config.poll_seconds, first=0.05, name="alerts-cycle", job_kwargs=once)
    jobs.run_repeating(_digest_job, interval=digest_tick, first=min(1.0, digest_tick), name="alerts-digest",
                       job_kwargs=once)
    return service
