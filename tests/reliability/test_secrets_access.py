"""Issue 6 §6: the token never shows in logs, errors or stderr; chats outside BRIEFBOT_ALLOWED_CHAT_IDS get no data
from any command, button or inline query; admin commands refuse non-admins."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.access import REFUSAL
from bot.app import _RedactToken
from bot.chat.handlers import ADMIN_ONLY
from tests.conftest import BOT_TOKEN, ask_bot
from tests.fakebotapi import FakeBotApi
from tests.reliability import procs
from tests.reliability.conftest import Figures

COMMAND = ".venv/bin/pytest -q tests/reliability/test_secrets_access.py"
ALLOWED, ADMIN = 1001, 7
OUTSIDERS = [666, -100666, -666]
COMMANDS = ["/start", "/help", "/ask What happened with Geneva?", "/latest", "/sources", "/reset", "/stats",
            "/subscribe", "/subscribe terbium", "/subscriptions", "/unsubscribe", "/digest daily 08:00", "/digest off",
            "/nonsense", "What happened with Geneva?", "@briefbot_test_bot What happened with Geneva?"]


async def test_outsiders_get_no_data_and_non_admins_are_refused(bot_api: FakeBotApi, start_bot: Any,
                                                               caplog: pytest.LogCaptureFixture,
                                                               figures: Figures) -> None:
    # serve() puts this filter on every log handler; PTB's own DEBUG lines print the Bot API URL with the token.
    # (caplog's handler lives for the whole session: the filter must come off again, see the finally below.)
    redact = _RedactToken(BOT_TOKEN)
    caplog.handler.addFilter(redact)
    try:
        await _outsiders(bot_api, start_bot, caplog, figures)
    finally:
        caplog.handler.removeFilter(redact)


async def _outsiders(bot_api: FakeBotApi, start_bot: Any, caplog: pytest.LogCaptureFixture, figures: Figures) -> None:
    caplog.set_level(logging.DEBUG, logger="briefbot")
    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.DEBUG, logger="telegram")
    async with start_bot(BRIEFBOT_ALLOWED_CHAT_IDS=f"{ALLOWED},{ADMIN}", BRIEFBOT_ADMIN_IDS=str(ADMIN)) as app:
        answer = await ask_bot(bot_api, ALLOWED, "What happened with Geneva?")
        buttons = [b["callback_data"] for row in answer.params["reply_markup"]["inline_keyboard"] for b in row]
        alert_button = "alert:ask:" + "0" * 12
        mark = len(bot_api.requests)
        for chat in OUTSIDERS:
            for text in COMMANDS:
                bot_api.user_message(chat, text, user_id=abs(chat))
            for data in [*buttons, alert_button]:  # real answer ids pressed from an outsider chat
                bot_api.callback_query(chat, 1, data, user_id=abs(chat))
        bot_api.inline_query("What happened with Geneva?", user_id=666)
        bot_api.callback_query(ALLOWED, answer.result["message_id"], buttons[0], user_id=666)  # forged: other user
        await asyncio.sleep(2.0)
        bot_api.user_message(ALLOWED, "/stats")
        stats_refused = await bot_api.wait_for_request(
            "sendMessage", lambda r: r.params.get("chat_id") == ALLOWED and "/stats" in r.params.get("text", ""))
        stats_ok = await ask_bot(bot_api, ADMIN, "/stats")
        subs = {c: app.bot_data["alerts"].store.subscriptions(c) for c in OUTSIDERS}
    leaks = []
    for rec in bot_api.requests[mark:]:
        chat = rec.params.get("chat_id")
        if rec.method == "sendMessage" and chat in OUTSIDERS and rec.params.get("text") != REFUSAL:
            leaks.append(("sendMessage", chat, rec.params.get("text", "")[:80]))
        if rec.method == "answerCallbackQuery" and rec.params.get("text") not in (REFUSAL, None):
            if "expired" not in str(rec.params.get("text")):
                leaks.append(("answerCallbackQuery", rec.params.get("text")))
        if rec.method == "answerInlineQuery" and rec.params.get("results"):
            leaks.append(("answerInlineQuery", len(rec.params["results"])))
    refused = [r for r in bot_api.requests[mark:] if r.params.get("text") == REFUSAL]
    figures.add("access: data sent to chats outside the allow-list (commands, buttons, inline)", "0", len(leaks),
                COMMAND, refusals=len(refused), attempts=len(OUTSIDERS) * (len(COMMANDS) + len(buttons) + 1) + 1)
    figures.add("access: admin command from a non-admin refused", "yes",
                "yes" if stats_refused.result["text"] == ADMIN_ONLY and "Uptime" in stats_ok.result["text"] else "no",
                COMMAND)
    raw = sum(BOT_TOKEN in r.getMessage() for r in caplog.records)  # after the filter rewrote them
    figures.add("secrets: token in in-process logs (all levels, bot + PTB loggers, serve's redaction filter)", "0",
                caplog.text.count(BOT_TOKEN), COMMAND, records_redacted=caplog.text.count("<token>"), left=raw)
    assert not leaks, leaks[:10]
    assert not any(subs.values())
    assert stats_refused.result["text"] == ADMIN_ONLY and "Uptime" in stats_ok.result["text"]
    assert BOT_TOKEN not in caplog.text


async def test_token_never_in_serve_output(bot_api: FakeBotApi, hash_engine_factory: Any, tmp_path: Path,
                                           figures: Figures) -> None:
    """A real `briefbot serve` through errors: 500s, 429, 403, a bad request, an exploding update, a wrong token."""
    data = tmp_path / "data"
    hash_engine_factory(data_dir=data)
    log = tmp_path / "serve.log"
    proc = await procs.serve(data, bot_api.ptb_base_url, log).start()
    try:
        await bot_api.wait_for_request("getUpdates", timeout=30)
        bot_api.fail_next("sendMessage", 500, count=2)
        bot_api.fail_next("getUpdates", 502, count=2)
        bot_api.user_message(11, "What happened with Geneva?")
        bot_api.fail_next("sendMessage", 429, retry_after=1)
        bot_api.user_message(12, "What happened with Geneva?")
        bot_api.block_chat(13)
        bot_api.user_message(13, "What happened with Geneva?")
        bot_api.push_update({"message": {"message_id": 1, "date": 0, "chat": {"id": 14, "type": "private"},
                                         "from": {"id": 14, "is_bot": False, "first_name": "X"},
                                         "text": "/ask", "entities": [{"type": "bot_command", "offset": 0,
                                                                       "length": 99}]}})
        await bot_api.wait_for_request("sendMessage", lambda r: r.params.get("chat_id") == 12 and r.ok, timeout=30)
        await asyncio.sleep(1.0)
    finally:
        await proc.stop()
    # a wrong token (the fake answers 401) and a malformed one
    wrong = procs.serve(data, bot_api.ptb_base_url, log)
    wrong.env["TELEGRAM_BOT_TOKEN"] = "987654321:" + "Z" * 35
    rc_wrong = await (await wrong.start()).wait(60)
    bad = procs.serve(data, bot_api.ptb_base_url, log)
    bad.env["TELEGRAM_BOT_TOKEN"] = "12345:short-secret-value"
    rc_bad = await (await bad.start()).wait(60)
    output = log.read_text(errors="replace")
    secrets = [BOT_TOKEN, BOT_TOKEN.split(":")[1], "Z" * 35, "short-secret-value"]
    found = {s[:12] + "…": output.count(s) for s in secrets if s in output}
    figures.add("secrets: token in `briefbot serve` stderr through errors and bad tokens", "0", sum(found.values()),
                COMMAND, exit_codes=[rc_wrong, rc_bad], log_lines=output.count("\n"))
    assert rc_wrong != 0 and rc_bad == 2
    assert not found, found
