"""Thin Telegram handlers over bot/sources/publish.py: source channels' posts, operators' documents and links, /remove."""

from __future__ import annotations

import logging
from pathlib import Path

from telegram import Bot, Document, Message, MessageEntity, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, ContextTypes, MessageHandler, filters

from bot.access import is_admin
from bot.config import BotConfig
from bot.messages import esc, send_html, short_title, typing
from bot.sources.publish import (Attachment, Brief, Download, NotPublished, Outcome, Post, Publisher, safe_file_name,
                                 single_link)

__all__ = ["install", "channel_post", "private_document", "admin_link", "remove", "post_of", "render_outcome",
           "render_removal", "DOCUMENTS_REFUSED", "REMOVE_ADMIN_ONLY"]

log = logging.getLogger("briefbot.publish")

DOCUMENTS_REFUSED = "Sorry, only the bot's operators can add documents. Ask me a question instead."
REMOVE_ADMIN_ONLY = "Sorry, /remove is only for the bot's operators."
REMOVE_USAGE = "Usage: /remove &lt;article id or t.me post link&gt;"
_LINKS = (MessageEntity.URL, MessageEntity.TEXT_LINK)
_MAX_REASONS = 5
# Like the answers' (bot.chat.handlers.Services.typing_delay): a quick publish shows no "typing…".
TYPING_DELAY = 0.3


class _SingleLink(filters.MessageFilter):
    """Messages that are essentially one link (see bot.sources.publish.single_link)."""

    def filter(self, message: Message) -> bool:
        return single_link(message.text or message.caption or "", _links(message)) is not None


def install(application: Application, publisher: Publisher, config: BotConfig) -> None:
    """Register the handlers; call before the private-text handler (a document or an operator's link is no question)."""
    application.bot_data["publisher"] = publisher
    application.bot_data["publish_config"] = config
    new = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE & new
    # Before the allow-list gate (group -2): source channels are configured explicitly.
    application.add_handler(MessageHandler(filters.UpdateType.CHANNEL_POSTS, channel_post), group=-3)
    application.add_handler(MessageHandler(private & filters.Document.ALL, private_document))
    application.add_handler(MessageHandler(private & filters.User(user_id=config.admin_ids) & _SingleLink(), admin_link))
    application.add_handler(CommandHandler("remove", remove, filters=new))


def _publisher(context: ContextTypes.DEFAULT_TYPE) -> Publisher:
    return context.bot_data["publisher"]  # type: ignore[no-any-return]


def _config(context: ContextTypes.DEFAULT_TYPE) -> BotConfig:
    return context.bot_data["publish_config"]  # type: ignore[no-any-return]


def _links(message: Message) -> list[str]:
    kinds: list[str | None] = list(_LINKS)
    entities = message.parse_entities(kinds) if message.text else message.parse_caption_entities(kinds)
    return [entity.url or text if entity.type == MessageEntity.TEXT_LINK else text for entity, text in entities.items()]


def _attachment(document: Document) -> Attachment:
    return Attachment(document.file_id, safe_file_name(document.file_name, document.mime_type), document.file_size)


def post_of(message: Message) -> Post:
    """The Telegram-free view of a channel post: text or caption, its leading bold run, links, document, channel."""
    bold = message.parse_entities([MessageEntity.BOLD]) if message.text else message.parse_caption_entities(
        [MessageEntity.BOLD])
    first_bold = min(bold, key=lambda entity: entity.offset, default=None)
    chat = message.chat
    return Post(chat.id, message.message_id, message.date, message.text or message.caption or "",
                bold[first_bold] if first_bold else None, tuple(_links(message)),
                _attachment(message.document) if message.document else None, chat.title, chat.username)


def _download(bot: Bot, file_id: str) -> Download:
    """getFile, then the download; Telegram's refusals become NotPublished in its own words."""

    async def into(path: Path) -> None:
        try:
            await (await bot.get_file(file_id)).download_to_drive(path)
        except TelegramError as error:
            raise NotPublished(f"Telegram would not hand the file over ({error.message})") from error

    return into


async def channel_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A source channel's post or edit becomes (or replaces) a brief; other channels are ignored."""
    message, chat, publisher = update.effective_message, update.effective_chat, _publisher(context)
    if message is None or chat is None or not publisher.sources.includes(chat.id, chat.username):
        return
    post = post_of(message)
    file_id = post.attachment.file_id if post.attachment else ""
    outcome = await publisher.post(post, _download(context.bot, file_id))
    log.info("channel %s post %s: %s", chat.id, message.message_id, _summary(outcome))
    if outcome.rejected and not outcome.changed:
        await _tell_operators(context.bot, _config(context), render_outcome(outcome, post.link or f"post {message.message_id}"))
    raise ApplicationHandlerStop  # handled: nothing else answers in a channel


async def _tell_operators(bot: Bot, config: BotConfig, text: str) -> None:
    """A channel shows a publisher nothing, so the operators learn why a post did not become a brief."""
    for admin in config.admin_ids:
        try:
            await send_html(bot, admin, text)
        except TelegramError as error:  # an operator who never opened a chat with the bot, or blocked it
            log.warning("could not tell operator %s about a rejected post: %s", admin, error)


async def private_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An operator's document is ingested and reported on; anyone else's is refused and never downloaded."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    assert message is not None and message.document is not None and chat is not None
    if not is_admin(_config(context), user.id if user else None):
        await send_html(context.bot, chat.id, esc(DOCUMENTS_REFUSED))
        return
    attachment = _attachment(message.document)
    async with typing(context.bot, chat.id, TYPING_DELAY):
        outcome = await _publisher(context).document(attachment, _download(context.bot, attachment.file_id))
    await send_html(context.bot, chat.id, render_outcome(outcome, attachment.name), reply_to=message.message_id)


async def admin_link(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An operator's link: the page is fetched, ingested and reported on (anyone else's link is a question)."""
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    url = single_link(message.text or message.caption or "", _links(message))
    assert url is not None  # the handler's filter
    async with typing(context.bot, chat.id, TYPING_DELAY):
        outcome = await _publisher(context).link(url)
    await send_html(context.bot, chat.id, render_outcome(outcome, url), reply_to=message.message_id)


async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remove <article id or t.me link> (operators): the brief is no longer cited or alerted."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    if not is_admin(_config(context), user.id if user else None):
        await send_html(context.bot, chat.id, esc(REMOVE_ADMIN_ONLY))
        return
    target = " ".join(context.args or []).strip()
    if not target:
        await send_html(context.bot, chat.id, REMOVE_USAGE)
        return
    await send_html(context.bot, chat.id, render_removal(await _publisher(context).remove(target), target))


def _summary(outcome: Outcome) -> str:
    """One log line: counts and rejection reasons (never the post itself)."""
    return (f"added {len(outcome.added)}, replaced {len(outcome.replaced)}, already indexed {outcome.already}, "
            f"rejected {list(outcome.rejected)}, alerting {outcome.audience} chat(s)")


def _titles(briefs: tuple[Brief, ...]) -> str:
    return ", ".join(f"“{esc(short_title(b.title, 80))}”" for b in briefs[:5]) + (" …" if len(briefs) > 5 else "")


def render_removal(outcome: Outcome, target: str) -> str:
    """The reply to /remove (Telegram HTML)."""
    if outcome.removed:
        return f"🗑 Removed {_titles(outcome.removed)}: no longer cited, no longer alerted."
    return (f"Nothing in the index matches {esc(short_title(target, 80))}. Give an article id (as in the "
            "citations) or the post's t.me link.")


def render_outcome(outcome: Outcome, what: str) -> str:
    """The operator's reply to a document or link (Telegram HTML, far below 4,096 characters)."""
    shown = esc(short_title(what, 80))
    reasons = [esc(short_title(r, 300)) for r in outcome.rejected[:_MAX_REASONS]]
    lines = []
    if outcome.added:
        count = len(outcome.added)
        lines.append(f"✅ Added {_titles(outcome.added)} — {outcome.passages} passage{'s' * (outcome.passages != 1)}"
                     f"{f' in {count} briefs' if count > 1 else ''}. {outcome.audience} subscribed "
                     f"chat{'s' * (outcome.audience != 1)} will be alerted.")
    if outcome.replaced:
        lines.append(f"✏️ Updated {_titles(outcome.replaced)}; nobody is alerted a second time.")
    if outcome.already and not outcome.changed:
        lines.append(f"Already indexed: nothing new in {shown}.")
    if reasons:
        head = "Some records were rejected" if outcome.changed else f"❌ Not added: {shown}"
        lines.append(head + "\n" + "\n".join(f"• {r}" for r in reasons))
    return "\n".join(lines) or f"Nothing new in {shown}."
