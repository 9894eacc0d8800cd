"""Bot reply latency on loopback: update available → sendMessage arrives, p50/p95 over N questions.

    .venv/bin/python bench/bot_latency.py            # builds the ~10k-passage index once, then measures
    .venv/bin/python bench/bot_latency.py -n 200     # more questions
    .venv/bin/python bench/bot_latency.py --build-only
    .venv/bin/python bench/bot_latency.py --burst 200   # also: 200 questions pushed at once from 200 chats
    .venv/bin/python bench/bot_latency.py --data-dir D  # another index (copied; the original is not touched)

The index: the 293 Wikinews articles (../shared/corpora/wikinews/articles.jsonl, ~1.6k passages)
plus synthetic variants of them (paragraphs rotated, title/id/url/date changed, so deduplication
keeps them, plus an "Update n:" dateline) until there are ≥ 10,000 passages (10,129), embedded with the
real all-MiniLM-L6-v2 model. Built once (~19 min on 2 busy CPUs, ~9 passages/s) and cached under
bench/.cache/wikinews-10k/ (git-ignored); later runs reuse it. The bot's state/ is wiped each run.

The bot is the real `build_application` over HTTP to `tests/fakebotapi.FakeBotApi` on 127.0.0.1.
Latency = perf_counter when the fake queued the update → when the fake received the bot's
sendMessage answering it. Questions (indexed titles in four phrasings, fixed seed) are sent one at a
time (no queueing in the measurement), each from a different private chat so no per-chat flood wait
applies. The table also shows engine.ask's own time for the same questions and the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpora import WIKINEWS  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
TARGET_CHUNKS = 10_000


def synthesise(target: int = TARGET_CHUNKS + 150) -> Path:
    """Write the Wikinews articles plus rotated variants up to ~`target` passages; returns the JSONL.

    Rotating paragraphs changes chunking a little, so the target carries a small margin.
    """
    from index.chunk import chunk_article
    from index.parse import parse_file

    articles = parse_file(WIKINEWS).articles
    records = [json.loads(line) for line in WIKINEWS.read_text(encoding="utf-8").splitlines() if line.strip()]
    sizes = {a.id: len(chunk_article(a)) for a in articles}
    out, total, variant = [], 0, 0
    while total < target:
        for record in records:
            if total >= target:
                break
            item = dict(record)
            if variant:
                paragraphs = [p for p in str(record["body"]).split("\n") if p.strip()]
                shift = variant % max(len(paragraphs), 1)
                rotated = paragraphs[shift:] + paragraphs[:shift]
                # A dateline keeps one-paragraph articles distinct from the original for dedup.
                item["body"] = f"Update {variant}: " + "\n\n".join(rotated)
                item["id"] = f"{record['id']}-v{variant}"
                item["title"] = f"{record['title']} (update {variant})"
                item["url"] = f"{record['url']}?v={variant}"
                item["published_at"] = (date.fromisoformat(record["published_at"])
                                        + timedelta(days=7 * variant)).isoformat()
            out.append(item)
            total += sizes.get(record["id"], 3)
        variant += 1
    path = CACHE / "wikinews-10k.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out), encoding="utf-8")
    return path


def build_index() -> Path:
    """The cached ~10k-passage data dir (built with the real model on first use)."""
    from index.engine import Engine
    from index.store import current_folder

    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n")
    data_dir = CACHE / "wikinews-10k"
    if current_folder(data_dir):
        return data_dir
    source = synthesise()
    started = time.perf_counter()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 10 or done == total:
            last[0] = time.perf_counter()
            print(f"  embedded {done}/{total} passages ({time.perf_counter() - started:.0f} s)", flush=True)

    report = Engine(data_dir).ingest([source], progress)
    print(f"built {len(report.added)} articles, {report.chunks} passages in {time.perf_counter() - started:.0f} s")
    return data_dir


TOKEN = "123456789:AAH-briefbot-bench-token-0123456789abcdef"
FORMS = ("What happened: {}?", "{}", "Tell me about {}", "What do the briefs say about {}?")


def questions(data_dir: Path, n: int, seed: int = 7) -> list[str]:
    """n questions from the indexed titles (several phrasings), deterministic."""
    from index.engine import Engine

    titles = sorted({a.title.split(" (update")[0].rstrip("?!. ") for a in Engine(data_dir).latest(5000)})
    rng = random.Random(seed)
    return [rng.choice(FORMS).format(rng.choice(titles)) for _ in range(n)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


async def measure(data_dir: Path, asked: list[str], warmup: int = 5) -> tuple[list[float], list[float], dict[str, object]]:
    """Per question (seconds): engine.ask time inside the bot, and update pushed → sendMessage received."""
    import shutil

    from telegram import Update

    from bot.app import build_application
    from bot.config import BotConfig
    from index.engine import Engine
    from tests.fakebotapi import FakeBotApi

    shutil.rmtree(data_dir / "state", ignore_errors=True)  # fresh conversations and answers each run
    engine = Engine(data_dir)
    stats = engine.stats()
    info = {"articles": stats.articles, "passages": stats.passages, "model": stats.model}
    engine_only: list[float] = []
    real_ask = engine.ask

    def timed_ask(*args: object, **kwargs: object) -> object:
        """engine.ask as the bot calls it (on its engine thread), timed for the breakdown."""
        started = time.perf_counter()
        try:
            return real_ask(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            engine_only.append(time.perf_counter() - started)

    engine.ask = timed_ask  # type: ignore[method-assign]
    through_bot = []
    async with FakeBotApi(token=TOKEN) as fake:
        config = BotConfig.load(None, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.ptb_base_url,
                                BRIEFBOT_DATA_DIR=data_dir)
        application = build_application(config, engine)
        await application.initialize()
        await application.post_init(application)  # type: ignore[misc]
        await application.start()
        await application.updater.start_polling(timeout=10, allowed_updates=Update.ALL_TYPES)  # type: ignore[union-attr]
        try:
            for number, question in enumerate([*asked[:warmup], *asked]):
                chat_id = 50_000 + number  # one chat per question: no per-chat flood waits in the numbers
                update = fake.user_message(chat_id, question)
                rec = await fake.wait_for_request("sendMessage", lambda r, c=chat_id: r.params.get("chat_id") == c, 60)
                if not rec.ok:
                    raise RuntimeError(f"sendMessage failed: {rec.response}")
                if number >= warmup:
                    through_bot.append(rec.timestamp - fake.pushed_at(update["update_id"]))
                else:
                    engine_only.clear()  # drop the start-up warm-up and warm-up questions
        finally:
            await application.updater.stop()  # type: ignore[union-attr]
            await application.stop()
            await application.post_shutdown(application)  # type: ignore[misc]
            await application.shutdown()
    return engine_only, through_bot, info


async def measure_burst(data_dir: Path, asked: list[str]) -> tuple[float, list[float]]:
    """All questions pushed at once, each from its own chat: seconds until the last answer, and each latency."""
    from telegram import Update

    from bot.app import build_application
    from bot.config import BotConfig
    from index.engine import Engine
    from tests.fakebotapi import FakeBotApi

    async with FakeBotApi(token=TOKEN) as fake:
        config = BotConfig.load(None, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.ptb_base_url,
                                BRIEFBOT_DATA_DIR=data_dir)
        application = build_application(config, Engine(data_dir))
        await application.initialize()
        await application.post_init(application)  # type: ignore[misc]
        await application.start()
        await application.updater.start_polling(timeout=10, allowed_updates=Update.ALL_TYPES)  # type: ignore[union-attr]
        try:
            fake.user_message(70_000, asked[0])  # the model and index loaded before the burst
            await fake.wait_for_request("sendMessage", lambda r: r.params.get("chat_id") == 70_000, 60)
            started = time.perf_counter()
            chats = {80_000 + i: fake.user_message(80_000 + i, q)["update_id"] for i, q in enumerate(asked)}
            replies = [await fake.wait_for_request("sendMessage", lambda r, c=c: r.params.get("chat_id") == c, 120)
                       for c in chats]
            last = max(r.timestamp for r in replies) - started
            return last, [r.timestamp - fake.pushed_at(chats[r.params["chat_id"]]) for r in replies]
        finally:
            await application.updater.stop()  # type: ignore[union-attr]
            await application.stop()
            await application.post_shutdown(application)  # type: ignore[misc]
            await application.shutdown()


def private_copy(source: Path) -> Path:
    """A throw-away copy of a data dir (the bench wipes its state/)."""
    import shutil
    import tempfile

    target = Path(tempfile.mkdtemp(prefix="briefbot-bench-")) / "data"
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("state"))
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=120, help="questions to time (default 120)")
    parser.add_argument("--build-only", action="store_true", help="build/cache the index and stop")
    parser.add_argument("--burst", type=int, default=0, help="also push this many questions at once, one chat each")
    parser.add_argument("--data-dir", type=Path, help="measure over (a copy of) this data dir instead")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    data_dir = private_copy(args.data_dir) if args.data_dir else build_index()
    if args.build_only:
        return 0
    asked = questions(data_dir, args.n)
    load = os.getloadavg()[0]
    engine_only, through_bot, info = asyncio.run(measure(data_dir, asked))
    print(f"machine: {os.cpu_count()} CPUs, 1-min load average {load:.1f} at start "
          "(other processes competing for the CPUs inflate the numbers)")
    print(f"index: {info['passages']} passages, {info['articles']} articles, model {info['model']}; "
          f"{len(through_bot)} questions, one at a time, loopback fake Bot API")
    print(f"| {'path':46} | p50 ms | p95 ms | max ms |")
    print(f"|{'-' * 48}|-------:|-------:|-------:|")
    overhead = [bot - eng for bot, eng in zip(through_bot, engine_only)]
    for name, values in (("engine.ask (inside the bot, same questions)", engine_only),
                         ("bot: update available → sendMessage arrives", through_bot),
                         ("bot minus engine (Telegram/PTB/HTTP overhead)", overhead)):
        ms = [v * 1000 for v in values]
        print(f"| {name:46} | {percentile(ms, 50):6.1f} | {percentile(ms, 95):6.1f} | {max(ms):6.1f} |")
    if args.burst:
        last, each = asyncio.run(measure_burst(data_dir, questions(data_dir, args.burst, seed=11)))
        ms = [v * 1000 for v in each]
        print(f"burst: {args.burst} questions pushed at once from {args.burst} chats: all answered in {last:.1f} s "
              f"(p50 {percentile(ms, 50):.0f} ms, p99 {percentile(ms, 99):.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
