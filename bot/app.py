"""The Telegram Application: `build_application` wires handlers to the engine, `serve` runs it.

`serve` long-polls by default; with BRIEFBOT_WEBHOOK_URL set it runs python-telegram-bot's webhook
server on BRIEFBOT_WEBHOOK_LISTEN behind a TLS-terminating reverse proxy, and every request without
the right X-Telegram-Bot-Api-Secret-Token header is refused (403) before anything reads it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (AIORateLimiter, Application, CallbackQueryHandler, CommandHandler, InlineQueryHandler,
                          MessageHandler, TypeHandler, filters)

from bot.alerts import handlers as alert_handlers
from bot.alerts.render import CALLBACK_PREFIX
from bot.chat import handlers
from bot.chat.answers import AnswerStore
from bot.chat.handlers import Services
from bot.config import BotConfig, ConfigError
from bot.conversations import ConversationStore
from bot.sources import handlers as publish_handlers
from bot.sources.publish import Publisher, Sources
from index.engine import Engine
from index.errors import BriefbotError

__all__ = ["build_application", "serve", "COMMANDS", "ALLOWED_UPDATES"]

log = logging.getLogger("briefbot.bot")

COMMANDS = [
    BotCommand("ask", "Ask a question about the briefs"),
    BotCommand("timeline", "The story of a subject, brief by brief"),
    BotCommand("latest", "The newest briefs"),
    BotCommand("sources", "What the corpus holds"),
    BotCommand("reset", "Forget our conversation"),
    BotCommand("help", "How to ask, and the commands"),
    BotCommand("start", "What this bot does"),
]
# The alerts' commands (bot/alerts/handlers.py registers them) belong in the menu too.
ALERT_COMMANDS = [
    BotCommand("subscribe", "Get alerts for a topic: /subscribe rare earths"),
    BotCommand("subscriptions", "Your alert topics"),
    BotCommand("unsubscribe", "Stop alerts for a topic"),
    BotCommand("digest", "Alerts as a daily digest: /digest daily 08:00"),
]
# Commands other modules (alerts) want in the menu: append BotCommand objects here in `install`.
EXTRA_COMMANDS_KEY = "menu_commands"
_NEW = filters.UpdateType.MESSAGE  # edited messages and channel posts are not questions
# Every update type a handler reads, asked for in both polling and webhook mode (edited messages are not).
ALLOWED_UPDATES = [Update.MESSAGE, Update.CHANNEL_POST, Update.EDITED_CHANNEL_POST, Update.CALLBACK_QUERY,
                   Update.INLINE_QUERY]


def build_application(config: BotConfig, engine: Engine | None = None) -> Application:
    """A ready-to-run Application: handlers, rate limiter, persisted state under <data_dir>/state."""
    engine = engine or config.engine()
    state = config.data_dir / "state"
    svc = Services(config, engine, ConversationStore(state / "conversations.sqlite"),
                   AnswerStore(state / "answers.sqlite"))
    application = (Application.builder().token(config.token.get_secret_value())
                   .base_url(config.api_base_url).base_file_url(_file_url(config.api_base_url))
                   .rate_limiter(FloodSafeRateLimiter(max_retries=3)).concurrent_updates(True)
                   .post_init(_post_init).post_shutdown(_post_shutdown).build())
    application.bot_data["briefbot"] = svc
    application.bot_data["engine_executor"] = svc.executor  # the one thread allowed to touch the engine
    application.bot_data["alerts_conversations"] = svc.conversations  # "Ask about this" feeds the same threads
    application.bot_data[EXTRA_COMMANDS_KEY] = []

    # Group -2: the allow-list runs before everything, including the alerts' handlers in group -1.
    application.add_handler(TypeHandler(Update, handlers.gate), group=-2)
    for name, callback in (("start", handlers.start), ("help", handlers.help_command), ("ask", handlers.ask_command),
                           ("timeline", handlers.timeline_command), ("latest", handlers.latest),
                           ("sources", handlers.sources), ("reset", handlers.reset),
                           ("stats", handlers.stats)):
        application.add_handler(CommandHandler(name, callback, filters=_NEW))
    alert_service = alert_handlers.install(application, engine, config)
    publisher = Publisher(engine, config.data_dir / "articles" / "telegram", Sources.of(config.source_channels),
                          alert_service, private_links=config.publish_private_links)
    publish_handlers.install(application, publisher, config)  # before questions: documents and links are not
    text = _NEW & (filters.TEXT | filters.CAPTION) & ~filters.COMMAND
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE & text, handlers.private_text))
    application.add_handler(MessageHandler(filters.ChatType.GROUPS & text, handlers.group_text))
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE & _NEW & ~filters.TEXT & ~filters.CAPTION
                                           & ~filters.StatusUpdate.ALL, handlers.private_other))
    # Everything but the alerts' own buttons, so tampered data such as "alert::ask::…" is still answered.
    application.add_handler(CallbackQueryHandler(handlers.button, pattern=rf"^(?!{re.escape(CALLBACK_PREFIX)})"))
    application.add_handler(InlineQueryHandler(handlers.inline_query))
    # Group 1: runs after the alerts' commands had their chance in group 0; skips claimed commands.
    application.add_handler(MessageHandler(_NEW & filters.COMMAND, handlers.unknown_command), group=1)
    application.add_error_handler(handlers.on_error)
    return application


class FloodSafeRateLimiter(AIORateLimiter):
    """AIORateLimiter whose pause after a 429 holds for the whole retry_after window.

    PTB's limiter pauses with an asyncio.Event that *every* finishing request sets again (`finally:
    event.set()`), so a request that was already in flight when another one drew a 429 lifts the pause
    early and the queued requests go out inside the window (tests/reliability/test_load.py caught it
    through the fake's retry_after bookkeeping). Here a 429 also records a deadline that every request
    waits out before it starts.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._paused_until = 0.0

    async def _run_request(self, chat: bool, group: str | int | bool, allow_paid_broadcast: bool, callback: Any,
                           args: Any, kwargs: dict[str, Any]) -> Any:
        loop = asyncio.get_running_loop()

        async def paced(*call_args: Any, **call_kwargs: Any) -> Any:
            while (wait := self._paused_until - loop.time()) > 0:
                await asyncio.sleep(wait)
            try:
                return await callback(*call_args, **call_kwargs)
            except RetryAfter as exc:
                seconds = exc._retry_after.total_seconds()  # noqa: SLF001 (the public attribute is deprecated)
                self._paused_until = max(self._paused_until, loop.time() + seconds + 0.1)
                raise

        return await super()._run_request(chat, group, allow_paid_broadcast, paced, args, kwargs)


def _file_url(api_base_url: str) -> str:
    """https://host/bot → https://host/file/bot (file downloads; unused but kept consistent)."""
    base = api_base_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"


async def _post_init(application: Application) -> None:
    """Register the command menu and warm the engine up (model, index) on its thread."""
    claimed = {c for group in application.handlers.values() for h in group if isinstance(h, CommandHandler)
               for c in h.commands}
    menu = [*COMMANDS, *(c for c in ALERT_COMMANDS if c.command in claimed),
            *application.bot_data.get(EXTRA_COMMANDS_KEY, [])]
    await application.bot.set_my_commands(list({c.command: c for c in menu}.values()))
    svc: Services = application.bot_data["briefbot"]
    svc.executor.submit(_warm_up, svc.engine)


def _warm_up(engine: Engine) -> None:
    """Load the model and open the index before the first question arrives."""
    try:
        engine.warm_up()
    except BriefbotError as error:
        log.warning("no answers possible yet: %s", error)
    except Exception:  # noqa: BLE001 - a failed warm-up must not stop the bot; questions will report it
        log.exception("warm-up failed")


async def _post_shutdown(application: Application) -> None:
    svc: Services = application.bot_data["briefbot"]
    application.bot_data["publisher"].close()
    svc.close()


# --------------------------------------------------------------------------- serve


class _RedactToken(logging.Filter):
    """Belt and braces: no log line (or traceback) ever shows the token (or the webhook secret)."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<token>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            record.msg, record.args = self._redact(message), None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = self._redact(text), None
        return True


def _configure_logging(*secrets: str) -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the request URL (and the token)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_RedactToken(*secrets))


def serve(data_dir: Path | None = None) -> int:
    """`briefbot serve`: validate the configuration, then long-poll (or serve the webhook) until interrupted."""
    try:
        config = BotConfig.load()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    if data_dir is not None:
        config = replace(config, data_dir=data_dir)
    token = config.token.get_secret_value()
    secret = config.webhook_secret.get_secret_value() if config.webhook_secret else ""
    _configure_logging(token, secret)
    application = build_application(config)
    try:
        if config.webhook_url:
            host, port = config.listen_address
            log.info("briefbot serving %s via webhook: listening on %s, Telegram posts to %s", config.data_dir,
                     config.webhook_listen, config.webhook_url)
            application.run_webhook(listen=host, port=port, url_path=config.webhook_path, secret_token=secret,
                                    webhook_url=config.webhook_url, allowed_updates=ALLOWED_UPDATES)
        else:
            log.info("briefbot serving %s via %s (long polling)", config.data_dir, config.api_base_url)
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
    except InvalidToken:
        print("briefbot: Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather", file=sys.stderr)
        return 2
    except NetworkError as error:
        print(f"briefbot: cannot reach the Bot API at {config.api_base_url}: {str(error).replace(token, '<token>')}",
              file=sys.stderr)
        return 1
    except TelegramError as error:  # e.g. setWebhook refused the URL
        print(f"briefbot: Telegram refused to start the bot: {error.message.replace(token, '<token>')}", file=sys.stderr)
        return 1
    except OSError as error:  # the webhook port: in use, or not ours to bind
        print(f"briefbot: cannot listen on {config.webhook_listen} ({error.strerror or error})", file=sys.stderr)
        return 1
    return 0
