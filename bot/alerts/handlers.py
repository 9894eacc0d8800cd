"""Alerts on Telegram: /subscribe /subscriptions /unsubscribe /digest, the "Ask about this" button,
the jobs and the transport the outbox sender uses.

`install(application, engine, config)` registers the commands and the button (handler group -1,
stopping further handling) and the JobQueue jobs:
- "alerts-cycle" every `poll_seconds`: `AlertService.cycle` (bot/alerts/service.py);
- "alerts-digest" every 30 s: daily digests that are due;
- the outbox sender, a long-running task sending through `telegram_transport`.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter
from telegram.ext import Application, ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.access import REFUSAL, chat_allowed, is_admin
from bot.alerts.render import CALLBACK_PREFIX
from bot.alerts.service import AlertService
from bot.conversations import ConversationStore, conversation_key
from bot.alerts.outbox import ChatGone, ChatMoved, Pacing, PermanentError, RetryLater, Transport
from bot.alerts.store import OutboxRow, normalize_topic
from index.conversation import Turn

if TYPE_CHECKING:
    from bot.config import BotConfig
    from index.engine import Engine

__all__ = ["install", "telegram_transport", "DIGEST_TICK_SECONDS"]

_LOG = logging.getLogger(__name__)
MAX_TOPICS_PER_CHAT = 20
MAX_TOPIC_CHARS = 100
DIGEST_TICK_SECONDS = 30.0
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def telegram_transport(bot: Bot) -> Transport:
    """Send an outbox row through the Bot API, translating Telegram's errors into the sender's."""
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

    return transport


def _service(context: ContextTypes.DEFAULT_TYPE) -> AlertService:
    return context.application.bot_data["alerts"]  # type: ignore[no-any-return]


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
    await context.bot.send_message(chat.id, f"Ask me anything about “{html.escape(title)}”", parse_mode=ParseMode.HTML)
    raise ApplicationHandlerStop


def _conversations(context: ContextTypes.DEFAULT_TYPE, service: AlertService) -> Any:
    store = context.application.bot_data.get("alerts_conversations")
    if store is None:
        store = ConversationStore(service.data_dir / "state" / "conversations.sqlite")
        context.application.bot_data["alerts_conversations"] = store
    return store


# --------------------------------------------------------------------------- jobs and install


async def _cycle_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    service = _service(context)
    service.start_sender(context.application, telegram_transport(context.application.bot))
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
    _service(context).start_sender(context.application, telegram_transport(context.application.bot))


def install(application: Application, engine: Engine, config: BotConfig, *, pacing: Pacing | None = None,
            inbox_settle_seconds: float = 1.0, digest_tick: float = DIGEST_TICK_SECONDS) -> AlertService:
    """Register alert commands and jobs on the application; returns the service (also in bot_data["alerts"])."""
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
