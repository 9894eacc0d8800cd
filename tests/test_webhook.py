"""`briefbot serve` as a real process: webhook mode (the fake Bot API posting updates with the secret header, as
Telegram does through the TLS proxy), forged requests refused, and polling asking for channel posts too."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from bot.app import serve
from index.engine import Engine
from tests.conftest import BOT_TOKEN, ask_bot
from tests.fakebotapi import SECRET_HEADER, FakeBotApi
from tests.reliability import procs

SECRET = "s3cret_Webhook-token"
HANDLED = {"message", "channel_post", "edited_channel_post", "callback_query", "inline_query"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def subscribe_update(chat_id: int) -> dict[str, object]:
    """A well-formed /subscribe from a private chat, as a forger would POST it."""
    person = {"id": chat_id, "is_bot": False, "first_name": "Forger"}
    return {"update_id": 990_001, "message": {
        "message_id": 1, "date": int(time.time()), "chat": {**person, "type": "private"}, "from": person,
        "text": "/subscribe", "entities": [{"type": "bot_command", "offset": 0, "length": 10}]}}


def subscriptions(data_dir: Path, chat_id: int) -> int:
    db = sqlite3.connect(data_dir / "state" / "alerts.sqlite")
    try:
        return int(db.execute("SELECT COUNT(*) FROM subscriptions WHERE chat_id = ?", (chat_id,)).fetchone()[0])
    finally:
        db.close()


async def test_webhook_mode_answers_updates_with_the_secret_and_refuses_the_rest(
        bot_api: FakeBotApi, hash_engine_factory: Callable[..., Engine], tmp_path: Path) -> None:
    engine = hash_engine_factory(data_dir=tmp_path / "data")
    port, path = free_port(), "telegram/hook-7f3a"
    log = tmp_path / "serve.log"
    proc = await procs.serve(engine.data_dir, bot_api.ptb_base_url, log, BRIEFBOT_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
                             BRIEFBOT_WEBHOOK_URL=f"https://briefbot.example.test/{path}",
                             BRIEFBOT_WEBHOOK_SECRET=SECRET).start()
    local = f"http://127.0.0.1:{port}/{path}"
    try:
        hook = await bot_api.wait_for_request("setWebhook", timeout=60)
        assert hook.ok and hook.params["url"] == f"https://briefbot.example.test/{path}"
        assert hook.params["secret_token"] == SECRET and HANDLED <= set(hook.params["allowed_updates"])
        bot_api.deliver_webhook_to(local)
        reply = await ask_bot(bot_api, 601, "What happened with Geneva?", timeout=30)
        assert reply.ok and "Geneva" in reply.result["text"]
        # PTB calls setWebhook before its server listens, so a first POST may find nobody (0) and is retried, as
        # Telegram retries; with the secret nothing is ever refused.
        assert {status for _, status in bot_api.webhook_deliveries} <= {0, 200}
        assert dict(bot_api.webhook_deliveries)[bot_api.pushed_updates[-1].update_id] == 200

        async with aiohttp.ClientSession() as session:
            for headers in ({}, {SECRET_HEADER: "wrong-secret"}, {SECRET_HEADER: SECRET.lower()}):
                async with session.post(local, json=subscribe_update(602), headers=headers) as response:
                    assert response.status == 403
            await asyncio.sleep(2.0)  # anything processed would have answered by now
            assert [r for r in bot_api.requests if r.params.get("chat_id") == 602] == []
            assert subscriptions(engine.data_dir, 602) == 0
            # The same update with the secret goes through: only the header made the difference.
            async with session.post(local, json=subscribe_update(602), headers={SECRET_HEADER: SECRET}) as response:
                assert response.status == 200
        done = await bot_api.wait_for_request("sendMessage", lambda r: r.params.get("chat_id") == 602, 20)
        assert "Subscribed" in done.result["text"] and subscriptions(engine.data_dir, 602) == 1
    finally:
        code = await proc.stop()
    assert code == 0, log.read_text()[-2000:]
    text = log.read_text()
    assert "webhook" in text and SECRET not in text and BOT_TOKEN not in text


async def test_polling_mode_asks_for_channel_posts_too(bot_api: FakeBotApi, hash_engine_factory: Callable[..., Engine],
                                                       tmp_path: Path) -> None:
    engine = hash_engine_factory(data_dir=tmp_path / "data")
    proc = await procs.serve(engine.data_dir, bot_api.ptb_base_url, tmp_path / "serve.log").start()
    try:
        poll = await bot_api.wait_for_request("getUpdates", timeout=60)
    finally:
        assert await proc.stop() == 0
    assert HANDLED <= set(poll.params["allowed_updates"])


@pytest.mark.parametrize(("env", "message"), [
    ({"BRIEFBOT_WEBHOOK_URL": "https://bot.example.test/hook"}, "BRIEFBOT_WEBHOOK_SECRET is required"),
    ({"BRIEFBOT_WEBHOOK_URL": "https://bot.example.test/hook", "BRIEFBOT_WEBHOOK_SECRET": "no spaces allowed"},
     "BRIEFBOT_WEBHOOK_SECRET must be 1-256 characters"),
    ({"BRIEFBOT_WEBHOOK_URL": "https://bot.example.test/hook", "BRIEFBOT_WEBHOOK_SECRET": "x" * 257},
     "BRIEFBOT_WEBHOOK_SECRET must be 1-256 characters"),
    ({"BRIEFBOT_WEBHOOK_URL": "http://bot.example.test/hook", "BRIEFBOT_WEBHOOK_SECRET": "ok"}, "https://"),
    ({"BRIEFBOT_WEBHOOK_LISTEN": "localhost"}, "host:port"),
    ({"BRIEFBOT_SOURCE_CHANNELS": "@metals, #news"}, "neither a channel id"),
])
def test_webhook_and_channel_settings_are_checked_at_start_up(env: dict[str, str], message: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", BOT_TOKEN)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert serve(tmp_path / "data") == 2
    err = capsys.readouterr().err
    assert message in err and "invalid configuration" in err
    assert env.get("BRIEFBOT_WEBHOOK_SECRET", "@@") not in err  # the secret's value is never echoed
