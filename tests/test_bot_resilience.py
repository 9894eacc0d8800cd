"""The bot under Telegram realities: 429 and 403, strange updates, rejected HTML, no index, crashes,
configuration errors, `briefbot serve` as a process, and one real-model answer through Telegram."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bot.chat.handlers
from bot.app import serve
from bot.chat.handlers import APOLOGY, NO_INDEX
from index.embed import Embedder
from index.engine import Engine
from tests.conftest import BOT_TOKEN, SAMPLE_TODAY, ask_bot, copy_index
from tests.fakebotapi import FakeBotApi
from tests.test_bot_private import GENEVA, GENEVA_CITED, shown


async def test_429_retry_after_is_honoured(bot_api: FakeBotApi, start_bot: Any) -> None:
    async with start_bot():
        bot_api.fail_next("sendMessage", 429, retry_after=1)
        started = time.perf_counter()
        bot_api.user_message(1001, GENEVA)
        rec = await bot_api.wait_for_request("sendMessage", lambda r: r.ok, timeout=15)
    failed = [r for r in bot_api.requests if r.method == "sendMessage" and r.status == 429]
    assert len(failed) == 1 and rec.ok and "[1]" in shown(rec)
    assert rec.timestamp - failed[0].timestamp >= 1.0 and time.perf_counter() - started >= 1.0
    assert bot_api.requests_during_retry_after == 0


async def test_split_answer_under_telegram_flood_limits_arrives_in_order(bot_api: FakeBotApi, start_bot: Any,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    bot_api.set_flood_limits(per_chat_per_sec=1)
    monkeypatch.setattr(bot.chat.handlers, "render_answer", lambda answer: [f"part {i} of 3" for i in (1, 2, 3)])
    async with start_bot():
        bot_api.user_message(1001, GENEVA)
        for _ in range(3):
            await bot_api.wait_for_request("sendMessage", lambda r: r.ok, timeout=15)
    assert [m["text"] for m in bot_api.sent_messages(1001)] == ["part 1 of 3", "part 2 of 3", "part 3 of 3"]
    assert "reply_markup" in bot_api.sent_messages(1001)[-1]
    assert bot_api.requests_during_retry_after == 0


async def test_403_blocked_user_is_logged_and_others_still_served(bot_api: FakeBotApi, start_bot: Any,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    bot_api.block_chat(3003)
    with caplog.at_level(logging.WARNING, logger="briefbot.bot"):
        async with start_bot():
            blocked = await ask_bot(bot_api, 3003, GENEVA)
            fine = await ask_bot(bot_api, 1001, GENEVA)
            await asyncio.sleep(0.05)
    assert blocked.status == 403 and fine.ok
    assert any("chat 3003" in r.getMessage() and "blocked" in r.getMessage() for r in caplog.records)
    assert BOT_TOKEN not in caplog.text


async def test_strange_updates_are_ignored_or_answered_briefly(bot_api: FakeBotApi, start_bot: Any,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    group = -100777
    with caplog.at_level(logging.ERROR):
        async with start_bot():
            sticker = bot_api.sticker_message(1001)
            hint = await bot_api.wait_for_request("sendMessage", lambda r: r.params["chat_id"] == 1001)
            bot_api.sticker_message(group, user_id=5)
            bot_api.edited_message(1001, sticker["message"]["message_id"], "What happened with Geneva?")
            bot_api.channel_post(-100555, f"@briefbot_test_bot {GENEVA}")
            photo = {"message_id": 900, "date": int(time.time()), "chat": {"id": 1001, "type": "private"},
                     "from": {"id": 1001, "is_bot": False, "first_name": "U"},
                     "photo": [{"file_id": "p", "file_unique_id": "p", "width": 9, "height": 9}]}
            bot_api.push_update({"message": photo})
            hint2 = await bot_api.wait_for_request("sendMessage", lambda r: r.params["chat_id"] == 1001)
            bot_api.push_update({"message": {**photo, "message_id": 901, "caption": GENEVA}})  # caption = question
            captioned = await bot_api.wait_for_request("sendMessage", lambda r: r.params["chat_id"] == 1001)
            odd = {"message_id": 5, "date": int(time.time()), "chat": {"id": 4242, "type": "sender"},
                   "from": {"id": 4242, "is_bot": False, "first_name": "Odd"}, "text": "hi"}
            bot_api.push_update({"message": odd})
            bot_api.push_update({"update_id": 999_999_999, "unknown_update_kind": {"x": 1}})
            bot_api.push_update({"message": {"message_id": 6, "date": int(time.time()), "chat": {"id": group, "type": "supergroup"},
                                             "new_chat_members": [{"id": 77, "is_bot": False, "first_name": "N"}]}})
            after = await ask_bot(bot_api, 1001, GENEVA)  # still alive and answering
    assert shown(hint).startswith("I read text questions only") and shown(hint2) == shown(hint)
    assert "[1]" in shown(captioned) and "[1]" in shown(after)
    assert not bot_api.sent_messages(group) and not bot_api.sent_messages(-100555) and not bot_api.sent_messages(4242)
    assert len(bot_api.sent_messages(1001)) == 4
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_rejected_html_is_resent_as_plain_text(bot_api: FakeBotApi, start_bot: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.chat.handlers, "render_answer", lambda answer: ["<blink>broken</blink> &bogus; AT&T"])
    async with start_bot():
        first = await ask_bot(bot_api, 1001, GENEVA)
        second = await bot_api.wait_for_request("sendMessage", lambda r: r.params["chat_id"] == 1001)
    assert first.status == 400 and "can't parse entities" in first.response["description"]
    assert second.ok and "parse_mode" not in second.params
    assert second.result["text"] == "broken &bogus; AT&T" and second.params.get("reply_markup")


async def test_no_index_yet_gets_a_clear_message(bot_api: FakeBotApi, start_bot: Any,
                                                 hash_engine_factory: Callable[..., Engine]) -> None:
    async with start_bot(hash_engine_factory(paths=[])):
        question = shown(await ask_bot(bot_api, 1001, GENEVA))
        latest = shown(await ask_bot(bot_api, 1001, "/latest"))
        bot_api.inline_query(GENEVA, user_id=1001)
        inline = await bot_api.wait_for_request("answerInlineQuery")
    assert question == latest == NO_INDEX.replace("`", "`")
    assert "briefbot ingest" in question and inline.ok and inline.params["results"] == []


async def test_unexpected_engine_error_apologises_and_keeps_running(bot_api: FakeBotApi, start_bot: Any,
                                                                    hash_engine_factory: Callable[..., Engine],
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    engine = hash_engine_factory()
    real_ask = engine.ask
    calls = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) == 2:  # the first call is the start-up warm-up
            raise RuntimeError("boom")
        return real_ask(*args, **kwargs)

    engine.ask = flaky  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="briefbot.bot"):
        async with start_bot(engine):
            await asyncio.sleep(0.1)  # let the warm-up run first
            sorry = shown(await ask_bot(bot_api, 1001, GENEVA))
            fine = shown(await ask_bot(bot_api, 1001, GENEVA))
    assert sorry == APOLOGY and "[1]" in fine
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "chat 1001" in record.getMessage() and record.exc_info and "boom" in str(record.exc_info[1])


@pytest.mark.parametrize(("token", "expected"), [
    (None, "TELEGRAM_BOT_TOKEN is not set"),
    ("12345:too-short-secret", "TELEGRAM_BOT_TOKEN does not look like a bot token"),
])
def test_serve_rejects_bad_configuration_in_one_line(token: str | None, expected: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    if token:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    assert serve(tmp_path) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err
    assert not token or token not in err and "too-short" not in err


async def test_briefbot_serve_process_answers_and_stops_cleanly(bot_api: FakeBotApi,
                                                                hash_engine_factory: Callable[..., Engine]) -> None:
    engine = hash_engine_factory()
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_API_BASE_URL": bot_api.ptb_base_url,
           "BRIEFBOT_MODEL": "hash", "BRIEFBOT_DATA_DIR": str(engine.data_dir)}
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "briefbot"), "serve", env=env, cwd=str(engine.data_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await bot_api.wait_for_request("setMyCommands", timeout=30)
        rec = await ask_bot(bot_api, 1001, GENEVA)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert "[1]" in shown(rec)
    assert process.returncode == 0, err.decode()[-2000:]
    assert BOT_TOKEN not in err.decode() and BOT_TOKEN.split(":")[1] not in err.decode()
    assert "long polling" in err.decode()


@pytest.mark.integration
async def test_real_model_answers_geneva_with_the_geneva_brief(bot_api: FakeBotApi, start_bot: Any,
                                                               real_index_dir: Path, real_embedder: Embedder,
                                                               tmp_path: Path) -> None:
    data_dir = copy_index(real_index_dir, tmp_path / "real")  # the bot writes state into its data dir
    engine = Engine(data_dir, embedder=real_embedder, today=lambda: SAMPLE_TODAY)
    async with start_bot(engine):
        rec = await ask_bot(bot_api, 1001, GENEVA, timeout=60)
    text = shown(rec)
    assert GENEVA_CITED in text and "Geneva" in text.split("Sources")[0]


def test_env_example_documents_every_setting_and_works_as_a_dotenv(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import BotConfig

    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    lines = example.splitlines()
    for variable in BotConfig.variables():
        [at] = [i for i, line in enumerate(lines) if line.startswith(f"{variable}=")]
        assert lines[at - 1].startswith("# "), variable  # one comment each
    monkeypatch.chdir(tmp_path)
    for variable in BotConfig.variables():
        monkeypatch.delenv(variable, raising=False)
    (tmp_path / ".env").write_text(example.replace("TELEGRAM_BOT_TOKEN=", f"TELEGRAM_BOT_TOKEN={BOT_TOKEN}"))
    config = BotConfig.load()
    assert config.model is None and config.inbox_dir is None and config.allowed_chat_ids == []
    assert config.api_base_url == "https://api.telegram.org/bot" and config.token.get_secret_value() == BOT_TOKEN
