"""Issue 6 §1: thousands of random well-formed updates through the fake Bot API into the running bot."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from typing import Any

import pytest
from telegram.ext import AIORateLimiter

import bot.app
from index.store import Snapshot
from tests.conftest import BOT_TOKEN, ask_bot
from tests.fakebotapi import FakeBotApi, parse_telegram_html, utf16_len
from tests.reliability.conftest import Figures, percentile, scale
from tests.pages import ARTICLE_PAGE, page_server
from tests.reliability.generate import SOURCE_CHANNELS, UpdateFuzzer

UPDATES = scale(500, 10_000)
BATCH = 25
SEED = int(os.environ.get("BRIEFBOT_FUZZ_SEED", "20250926"))
COMMAND = "BRIEFBOT_RELIABILITY=full .venv/bin/pytest -q tests/reliability/test_fuzz_updates.py"


class _FirstAnswers:
    """First bot answer per chat / callback query / inline query (fake's receive time), read on from where
    the last call stopped: rescanning every request each 10 ms made the 10,000-update run quadratic."""

    def __init__(self, fake: FakeBotApi) -> None:
        self.fake = fake
        self.read = 0
        self.first: dict[tuple[str, Any], float] = {}

    def __call__(self) -> dict[tuple[str, Any], float]:
        requests = self.fake.requests
        for rec in requests[self.read :]:
            method = rec.method.lower()
            if method == "sendmessage":
                key = ("message", rec.params.get("chat_id"))
            elif method == "answercallbackquery":
                key = ("callback", str(rec.params.get("callback_query_id")))
            elif method == "answerinlinequery":
                key = ("inline", str(rec.params.get("inline_query_id")))
            else:
                continue
            self.first.setdefault(key, rec.timestamp)
        self.read = len(requests)
        return self.first


async def test_fuzzed_updates(bot_api: FakeBotApi, start_bot: Any, monkeypatch: pytest.MonkeyPatch,
                              caplog: pytest.LogCaptureFixture, figures: Figures) -> None:
    # The bot's own flood pacing (30 msg/s) would make 10,000 updates take 6+ minutes; it is exercised by the
    # load test. Here the limiter keeps its retry behaviour but no rate caps.
    monkeypatch.setattr(bot.app, "AIORateLimiter",
                        lambda max_retries=3: AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=max_retries))
    # Operators are matched to replies by chat, so each document from an operator comes from a new one.
    admins = list(range(60_000_001, 60_000_001 + UPDATES // 20))
    pages = {"/article": ("text/html", ARTICLE_PAGE.encode()), "/image": ("image/png", b"\x89PNG")}
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        async with page_server(pages) as site, start_bot(
                BRIEFBOT_ADMIN_IDS=",".join(map(str, [7, *admins])),
                BRIEFBOT_SOURCE_CHANNELS=",".join(map(str, SOURCE_CHANNELS)),
                BRIEFBOT_PUBLISH_PRIVATE_LINKS="true") as app:  # the fuzzer's link posts lead to the local site
            fuzzer = UpdateFuzzer(bot_api, SEED, admins, site)
            answered_at = _FirstAnswers(bot_api)
            await ask_bot(bot_api, 7, "What happened with Geneva?")  # warm and give the fuzzer buttons to press
            pushed = 0
            while pushed < UPDATES:
                mark = len(fuzzer.expect)
                for _ in range(min(BATCH, UPDATES - pushed)):
                    fuzzer.push_one()
                    pushed += 1
                wanted = {(k, key) for k, key, _ in fuzzer.expect[mark:]}
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    if not bot_api._queue and wanted <= answered_at().keys():
                        break
                    await asyncio.sleep(0.01)
            await asyncio.sleep(0.5)  # stragglers (typing, buttons)
            alive = await ask_bot(bot_api, 7, "Who controls rare earth processing?", timeout=15)
            running = app.running
            published = Snapshot.open(app.bot_data["briefbot"].engine.data_dir).query(
                "SELECT COUNT(*) FROM articles WHERE id LIKE 'tg:%'")[0][0]
    elapsed = time.perf_counter() - started

    answered = answered_at()
    latencies, missing = [], []
    delivered = {p.update_id: p.delivered_at for p in bot_api.pushed_updates}
    del delivered
    for kind, key, pushed_at in fuzzer.expect:
        at = answered.get((kind, key))
        if at is None:
            missing.append((kind, key))
        else:
            latencies.append(at - pushed_at)
    rejected = [r for r in bot_api.requests if r.status and r.status >= 400 and r.method != "getUpdates"]
    rejected_kinds = Counter(f"{r.method} {r.status} {r.response.get('description', '')[:60]}" for r in rejected)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    html_fallbacks = [r for r in caplog.records if "rejected our HTML" in r.getMessage()]
    sent = [r for r in bot_api.requests if r.method == "sendMessage" and r.ok]
    too_long = [r for r in sent if utf16_len(r.result["text"]) > 4096]
    for rec in sent:  # belt and braces: the fake validated, re-check the stored HTML
        if rec.params.get("parse_mode"):
            parse_telegram_html(rec.params["text"])

    figures.add("fuzz: updates sent", f">= {scale(500, 10_000)}", UPDATES, COMMAND,
                kinds=dict(fuzzer.counts), seconds=round(elapsed, 1), rate_per_s=round(UPDATES / elapsed, 1))
    figures.add("fuzz: briefs published from channel posts (of those pushed, incl. edits and unlisted channels)",
                "reported", f"{published} / {fuzzer.counts.get('channel post', 0)}", COMMAND,
                edits=fuzzer.counts.get("edited channel post", 0), documents=fuzzer.counts.get("document", 0))
    figures.add("fuzz: crashes (bot stopped / stopped answering)", "0", int(not (running and alive.ok)), COMMAND)
    figures.add("fuzz: unhandled exceptions logged (ERROR)", "0", len(errors), COMMAND,
                examples=[r.getMessage()[:200] for r in errors[:5]])
    figures.add("fuzz: replies Telegram would reject (4xx from the fake)", "0", len(rejected), COMMAND,
                kinds=dict(rejected_kinds), html_fallbacks=len(html_fallbacks), over_4096=len(too_long))
    figures.add("fuzz: updates that needed an answer and got none", "0", len(missing), COMMAND, examples=missing[:5])
    figures.add("fuzz: p50 / p99 time to answer (ms)", "p99 reported",
                f"{percentile(latencies, 50) * 1000:.0f} / {percentile(latencies, 99) * 1000:.0f}", COMMAND,
                answers=len(latencies))
    assert running and alive.ok
    assert not errors, [r.getMessage() for r in errors[:5]]
    assert not rejected, rejected_kinds.most_common(10)
    assert not html_fallbacks and not too_long
    assert not missing, missing[:10]
    assert BOT_TOKEN not in caplog.text
