"""Regression tests for the bugs the reliability suite found (quick, deterministic)."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from telegram.error import RetryAfter

from bot.alerts.render import brief_info, render_alert, render_collection
from bot.app import FloodSafeRateLimiter
from bot.alerts.topics import NewBrief
from index.errors import RejectedInput
from index.parse import parse_file
from tests.fakebotapi import parse_telegram_html, utf16_len


def _info(title: str) -> dict:
    brief = NewBrief(seq=1, id="x", title=title, text="b", highlights=(), body="Body text of the brief.",
                     published_at=date(2025, 9, 25), ingested_at=0.0, source=None, url=None,
                     vectors=np.zeros((0, 4), np.float32))
    return brief_info(brief)


def test_burst_message_counts_emoji_as_two_units() -> None:
    """render_collection measured len() (code points); astral titles made a burst message of > 4,096 units."""
    infos = [dict(_info("😀" * 200), id=str(i)) for i in range(15)]
    text, _ = render_collection(infos, "Burst")
    assert utf16_len(parse_telegram_html(text)) <= 4096
    single, _ = render_alert(_info("😀" * 400))
    assert utf16_len(parse_telegram_html(single)) <= 4096


@pytest.mark.parametrize("name,data", [("deep.json", b"[" * 100_000), ("deep.jsonl", b'{"body": ' + b"[" * 100_000 + b"}")])
def test_deeply_nested_json_is_rejected_not_a_crash(tmp_path: Path, name: str, data: bytes) -> None:
    """json.loads raises RecursionError (not JSONDecodeError) on deep nesting; it aborted the whole ingest."""
    path = tmp_path / name
    path.write_bytes(data)
    if name.endswith(".json"):
        with pytest.raises(RejectedInput, match="nested too deeply"):
            parse_file(path)
    else:
        parsed = parse_file(path)
        assert not parsed.articles and "nested too deeply" in parsed.rejected[0].reason


def test_deep_json_does_not_abort_a_batch(hash_engine_factory, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "deep.json").write_bytes(b"[" * 100_000)
    (folder / "good.json").write_text(json.dumps({"id": "ok", "title": "Fine", "body": "A perfectly fine brief "
                                                  "about terbium output at the plant this week."}))
    report = hash_engine_factory(paths=[]).ingest([folder])
    assert [a.id for a in report.added] == ["ok"] and len(report.rejected) == 1


async def test_rate_limiter_pause_is_not_lifted_by_another_request_finishing() -> None:
    """PTB's AIORateLimiter re-opens its gate when ANY request finishes (finally: event.set()), so a request
    in flight during a 429 let queued requests out inside the retry_after window."""
    loop = asyncio.get_running_loop()
    limiter = FloodSafeRateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=1)
    starts: dict[str, float] = {}
    calls = {"a": 0}

    async def slow_ok() -> bool:  # in flight while the other request draws its 429
        await asyncio.sleep(0.2)
        return True

    async def limited() -> bool:
        calls["a"] += 1
        if calls["a"] == 1:
            raise RetryAfter(1)
        return True

    async def queued() -> bool:
        starts["queued"] = loop.time()
        return True

    def run(callback, chat: int) -> asyncio.Task:
        return asyncio.create_task(limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": chat}, None))

    b = run(slow_ok, 1)
    await asyncio.sleep(0.02)
    a = run(limited, 2)
    await asyncio.sleep(0.02)
    failed_at = loop.time()
    c = run(queued, 3)
    await asyncio.gather(a, b, c)
    assert starts["queued"] - failed_at >= 0.9


async def test_tampered_alert_button_data_is_still_answered(bot_api, start_bot) -> None:  # type: ignore[no-untyped-def]
    """Data starting "alert:" but not "alert:ask:" matched no handler, so the button spun until Telegram gave up
    (the fuzz run found it once channel posts made alerts with buttons to tamper with)."""
    async with start_bot():
        for data in ("alert::ask::0123456789ab", "alert:", "alert:other"):
            update = bot_api.callback_query(1001, 1, data)
            query_id = update["callback_query"]["id"]
            answered = await bot_api.wait_for_request("answerCallbackQuery",
                                                      lambda r: r.params["callback_query_id"] == query_id)
            assert answered.ok


def test_trafilatura_does_not_log_errors_for_a_page_it_cannot_read(hash_engine_factory, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """Garbage saved as .html made trafilatura log ERROR ("empty HTML tree") for a routine rejection."""
    page = tmp_path / "page.html"
    page.write_bytes(b"]]>")
    with caplog.at_level(logging.WARNING):
        report = hash_engine_factory([]).ingest([page])
    assert report.rejected and not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_brief_posted_while_the_first_cycle_is_busy_is_alerted(bot_api, start_bot,  # type: ignore[no-untyped-def]
                                                                      hash_engine_factory) -> None:
    """Issue 17: the backlog line was drawn lazily, by the first alert cycle after its feed poll. A channel
    post that landed meanwhile (a slow feed, a model still loading) was counted as backlog: nobody heard of it."""
    from aiohttp import web

    from tests.pages import local_server
    from tests.test_alerts import alerts_to, until
    from tests.test_publish import CHANNEL, GALLIUM, say

    async def slow_feed(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(text="<rss version='2.0'><channel><title>Slow</title></channel></rss>",
                            content_type="application/rss+xml")

    fake, engine = bot_api, hash_engine_factory()
    fake.channel(CHANNEL, "Metals Desk", "MetalsDesk")
    async with local_server({"/feed": slow_feed}) as base, start_bot(
            engine, BRIEFBOT_SOURCE_CHANNELS="@metalsdesk", BRIEFBOT_ADMIN_IDS="7", BRIEFBOT_POLL_SECONDS="2",
            BRIEFBOT_FEEDS=f"{base}/feed", BRIEFBOT_PUBLISH_PRIVATE_LINKS="true"):
        for chat, topic in ((401, ""), (402, "gallium"), (403, "lithium brine in Chile")):
            await say(fake, chat, f"/subscribe {topic}".strip())
        await asyncio.sleep(1.0)
        fake.channel_post(CHANNEL, GALLIUM)
        await until(lambda: bool(alerts_to(fake, 401) and alerts_to(fake, 402)), 10)
    assert len(alerts_to(fake, 401)) == 1 and len(alerts_to(fake, 402)) == 1 and not alerts_to(fake, 403)
