"""Issue 6 §1: thousands of random well-formed updates through the fake Bot API into the running bot."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from typing import Any

import pytest

import bot.app
from bot.app import FloodSafeRateLimiter
from index.store import Snapshot
from tests.conftest import BOT_TOKEN, ask_bot
from tests.fakebotapi import FakeBotApi, RecordedRequest, parse_telegram_html, utf16_len
from tests.reliability.conftest import Figures, percentile, scale
from tests.pages import ARTICLE_PAGE, page_server
from tests.reliability.generate import SOURCE_CHANNELS, Expected, UpdateFuzzer

UPDATES = scale(500, 10_000)
BATCH = 25
DEADLINE = 30.0  # seconds a batch waits for its answers; a batch that waits it out is reported
# A handful of operators, as a real deployment has. Every source-channel post that does not become a brief is
# reported to every operator, so operators scaled with the run (one per 20 updates) made the reports grow with
# the square of the updates: about 40,000 at 10,000 updates (80 rejected posts x 501 operators; 400 with these
# 5), and, with the run paced at 30 messages/s (see below), it never finished.
OPERATORS = [7, *range(60_000_001, 60_000_005)]
SEED = int(os.environ.get("BRIEFBOT_FUZZ_SEED", "20250926"))
COMMAND = "BRIEFBOT_RELIABILITY=full .venv/bin/pytest -q tests/reliability/test_fuzz_updates.py"


def _chat_id(params: dict[str, Any]) -> Any:
    """sendMessage's chat_id as the fuzzer keys it: an int (PTB may send it as a string)."""
    chat = params.get("chat_id")
    return int(chat) if isinstance(chat, str) and chat.lstrip("-").isdigit() else chat


class _FirstAnswers:
    """First accepted bot answer per chat, replied-to message, callback query and inline query (the fake's
    receive time), read on from where the last call stopped: rescanning every request each 10 ms made the
    10,000-update run quadratic. The fake records a request before it has read its parameters, so a request
    not yet answered is kept and looked at again on the next call."""

    def __init__(self, fake: FakeBotApi) -> None:
        self.fake = fake
        self.read = 0
        self.unfinished: list[RecordedRequest] = []
        self.first: dict[tuple[str, Any], float] = {}

    def __call__(self) -> dict[tuple[str, Any], float]:
        requests = self.fake.requests
        seen, self.read = [*self.unfinished, *requests[self.read :]], len(requests)
        self.unfinished = [rec for rec in seen if rec.response is None]
        for rec in seen:
            if rec.response is None or not rec.ok:
                continue
            method, params = rec.method.lower(), rec.params
            keys: list[tuple[str, Any]] = []
            if method == "sendmessage":
                chat = _chat_id(params)
                keys.append(("message", chat))
                reply = (params.get("reply_parameters") or {}).get("message_id") or params.get("reply_to_message_id")
                if reply:
                    keys.append(("reply", (chat, int(reply))))
            elif method == "answercallbackquery":
                keys.append(("callback", str(params.get("callback_query_id"))))
            elif method == "answerinlinequery":
                keys.append(("inline", str(params.get("inline_query_id"))))
            for key in keys:  # requests finish out of order: the earliest received counts
                self.first[key] = min(self.first.get(key, rec.timestamp), rec.timestamp)
        return self.first


def _unanswered(expected: list[Expected], answered: dict[tuple[str, Any], float]) -> list[Expected]:
    return [e for e in expected if (e.kind, e.key) not in answered]


def _describe(missing: list[Expected]) -> str:
    """Which expected answers never came: counts by what was pushed, then the first ten."""
    counts = Counter(e.what if not e.what.startswith("callback") else "callback query" for e in missing)
    lines = [f"{len(missing)} update(s) that needed an answer got none: {dict(counts.most_common())}"]
    lines += [f"  {e.what}: no {e.kind} answer for {e.key!r}" for e in missing[:10]]
    return "\n".join(lines)


async def test_fuzzed_updates(bot_api: FakeBotApi, start_bot: Any, monkeypatch: pytest.MonkeyPatch,
                              caplog: pytest.LogCaptureFixture, figures: Figures) -> None:
    # The bot's own flood pacing (30 msg/s) would make 10,000 updates take 6+ minutes; it is exercised by the
    # load test. Here the limiter keeps its retry behaviour but no rate caps. build_application builds a
    # FloodSafeRateLimiter, so that is the name replaced (replacing AIORateLimiter, its base class, did nothing:
    # the run was paced at 30 msg/s); the bot is checked below to run with the limiter built here.
    limiters: list[FloodSafeRateLimiter] = []

    def uncapped(max_retries: int = 3) -> FloodSafeRateLimiter:
        limiters.append(FloodSafeRateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=max_retries))
        return limiters[-1]

    monkeypatch.setattr(bot.app, "FloodSafeRateLimiter", uncapped)
    pages = {"/article": ("text/html", ARTICLE_PAGE.encode()), "/image": ("image/png", b"\x89PNG")}
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        async with page_server(pages) as site, start_bot(
                BRIEFBOT_ADMIN_IDS=",".join(map(str, OPERATORS)),
                BRIEFBOT_SOURCE_CHANNELS=",".join(map(str, SOURCE_CHANNELS)),
                BRIEFBOT_PUBLISH_PRIVATE_LINKS="true") as app:  # the fuzzer's link posts lead to the local site
            assert limiters and app.bot.rate_limiter is limiters[-1], "the fuzz run must not be flood-paced"
            fuzzer = UpdateFuzzer(bot_api, SEED, OPERATORS[1:], site)
            answered_at = _FirstAnswers(bot_api)
            await ask_bot(bot_api, 7, "What happened with Geneva?")  # warm and give the fuzzer buttons to press
            fuzz_from = time.perf_counter()  # the fake's clock: requests after this one belong to the fuzz
            pushed, stalled = 0, []
            while pushed < UPDATES:
                mark = len(fuzzer.expect)
                for _ in range(min(BATCH, UPDATES - pushed)):
                    fuzzer.push_one()
                    pushed += 1
                wanted = fuzzer.expect[mark:]
                deadline = time.monotonic() + DEADLINE
                while bot_api._queue or _unanswered(wanted, answered_at()):
                    if time.monotonic() >= deadline:
                        stalled.append((pushed, len(bot_api._queue), _unanswered(wanted, answered_at())))
                        break
                    await asyncio.sleep(0.01)
            await asyncio.sleep(0.5)  # stragglers (typing, buttons)
            alive = await ask_bot(bot_api, 8, "Who controls rare earth processing?", timeout=15)  # no operator
            running = app.running
            published = Snapshot.open(app.bot_data["briefbot"].engine.data_dir).query(
                "SELECT COUNT(*) FROM articles WHERE id LIKE 'tg:%'")[0][0]
    elapsed = time.perf_counter() - started

    answered = answered_at()
    missing = _unanswered(fuzzer.expect, answered)
    latencies = [answered[(e.kind, e.key)] - e.pushed_at for e in fuzzer.expect if (e.kind, e.key) in answered]
    rejected = [r for r in bot_api.requests if r.status and r.status >= 400 and r.method != "getUpdates"]
    rejected_kinds = Counter(f"{r.method} {r.status} {r.response.get('description', '')[:60]}" for r in rejected)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    html_fallbacks = [r for r in caplog.records if "rejected our HTML" in r.getMessage()]
    sent = [r for r in bot_api.requests if r.method == "sendMessage" and r.ok]
    reports = sum(1 for r in sent if r.timestamp >= fuzz_from and _chat_id(r.params) in OPERATORS
                  and not r.params.get("reply_parameters"))  # the rejected channel posts' reports
    too_long = [r for r in sent if utf16_len(r.result["text"]) > 4096]
    for rec in sent:  # belt and braces: the fake validated, re-check the stored HTML
        if rec.params.get("parse_mode"):
            parse_telegram_html(rec.params["text"])

    figures.add("fuzz: updates sent", f">= {scale(500, 10_000)}", UPDATES, COMMAND,
                kinds=dict(fuzzer.counts), seconds=round(elapsed, 1), rate_per_s=round(UPDATES / elapsed, 1),
                messages_sent=len(sent), batches=-(-UPDATES // BATCH), batches_past_deadline=len(stalled))
    figures.add("fuzz: briefs published from channel posts (of those pushed, incl. edits and unlisted channels)",
                "reported", f"{published} / {fuzzer.counts.get('channel post', 0)}", COMMAND,
                edits=fuzzer.counts.get("edited channel post", 0), documents=fuzzer.counts.get("document", 0),
                operators=len(OPERATORS), operator_reports=reports)
    figures.add("fuzz: crashes (bot stopped / stopped answering)", "0", int(not (running and alive.ok)), COMMAND)
    figures.add("fuzz: unhandled exceptions logged (ERROR)", "0", len(errors), COMMAND,
                examples=[r.getMessage()[:200] for r in errors[:5]])
    figures.add("fuzz: replies Telegram would reject (4xx from the fake)", "0", len(rejected), COMMAND,
                kinds=dict(rejected_kinds), html_fallbacks=len(html_fallbacks), over_4096=len(too_long))
    figures.add("fuzz: updates that needed an answer and got none", "0", len(missing), COMMAND,
                expected=len(fuzzer.expect), examples=[f"{e.what}: {e.kind} {e.key!r}" for e in missing[:5]])
    figures.add("fuzz: p50 / p99 time to answer (ms)", "p99 reported",
                f"{percentile(latencies, 50) * 1000:.0f} / {percentile(latencies, 99) * 1000:.0f}", COMMAND,
                answers=len(latencies))
    assert running and alive.ok
    assert not errors, [r.getMessage() for r in errors[:5]]
    assert not rejected, rejected_kinds.most_common(10)
    assert not html_fallbacks and not too_long
    assert not missing, _describe(missing)
    assert not stalled, [f"batch ending at update {n}: {queued} update(s) still queued, waiting for "
                         f"{[f'{e.what} ({e.kind} {e.key!r})' for e in waiting[:5]]}"
                         for n, queued, waiting in stalled[:5]]
    assert BOT_TOKEN not in caplog.text
