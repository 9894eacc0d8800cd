"""Telegram message basics every capability shares: escaping, length, short titles, sending with a plain-text
fallback, the "typing…" indicator.

A shared leaf: it imports only telegram, never another bot/ module, so chat/, alerts/ and sources/ may all
use it without importing each other.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError

__all__ = ["MAX_MESSAGE", "esc", "utf16_len", "to_plain", "short_title", "send_html", "typing"]

log = logging.getLogger("briefbot.bot")

MAX_MESSAGE = 4096
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def esc(text: object) -> str:
    """HTML-escape any text for Telegram, dropping control characters and lone surrogates."""
    return html.escape(_CONTROL.sub("", str(text)), quote=True)

def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2

def to_plain(markup: str) -> str:
    """The visible text of our HTML: the fallback when Telegram still rejects the markup."""
    return html.unescape(re.sub(r"<[^>]*>", "", markup))

def short_title(title: str, limit: int = 40) -> str:
    """A title cut at a word boundary with an ellipsis, for buttons and inline results."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1].rsplit(" ", 1)[0] or title[: limit - 1]
    return cut.rstrip(" ,;:-–—") + "…"

async def send_html(bot: Bot, chat_id: int, text: str, *, markup: InlineKeyboardMarkup | None = None,
                    reply_to: int | None = None) -> Message:
    """Send Telegram HTML; if Telegram still cannot parse it, resend the same words as plain text."""
    reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    try:
        return await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                      reply_parameters=reply, link_preview_options=_NO_PREVIEW)
    except BadRequest as error:
        if "can't parse entities" not in str(error).lower():
            raise
        log.warning("chat %s: Telegram rejected our HTML (%s); resending as plain text", chat_id, error)
        return await bot.send_message(chat_id, to_plain(text), reply_markup=markup, reply_parameters=reply,
                                      link_preview_options=_NO_PREVIEW)

@asynccontextmanager
async def typing(bot: Bot, chat_id: int, delay: float = 0.0) -> AsyncIterator[None]:
    """Show "typing…" (renewed every 4.5 s) while the body runs, if it takes longer than `delay`."""

    async def keep_typing() -> None:
        with suppress(TelegramError):
            await asyncio.sleep(delay)
            while True:
                await bot.send_chat_action(chat_id, ChatAction.TYPING)
                await asyncio.sleep(4.5)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
