"""Fan-out benchmark: one brief to N subscribed chats through the real alert path and the fake Bot API.

The fake enforces Telegram's flood limits (30 msg/s global, 1/s per chat, 20/min per group); we measure
sustained messages/s, duplicates, losses and requests sent inside a retry_after window.

    .venv/bin/python -m bench.fanout --chats 2000        # ~70 s
    .venv/bin/python -m bench.fanout --chats 10000       # ~6 min
Options: --groups K (that many of the chats are groups, negative ids), --storm K (inject K 429s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.alerts.handlers import install  # noqa: E402
from bot.config import BotConfig  # noqa: E402
from index.embed import HashEmbedder  # noqa: E402
from index.engine import Engine  # noqa: E402
from tests.fakebotapi import FakeBotApi  # noqa: E402

BRIEF = {"id": "bench-brief", "title": "Terbium output jumps as new separation lines start",
         "published_at": date.today().isoformat(), "source": "Bench Wire", "url": "https://example.com/terbium",
         "body": "Chinese producers raised terbium output by 18 percent in the third quarter after two new "
                 "separation lines came online. Terbium keeps permanent magnets stable at high temperatures. "
                 "Analysts expect the extra oxide to ease prices for magnet makers in Japan and Europe."}


async def run(chats: int, groups: int, storm: int, timeout: float) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="briefbot-fanout-"))
    engine = Engine(tmp / "data", embedder=HashEmbedder())
    config = BotConfig.load(**{"TELEGRAM_BOT_TOKEN": "123456789:" + "A" * 35, "BRIEFBOT_DATA_DIR": str(tmp / "data"),
                               "BRIEFBOT_POLL_SECONDS": 0.5})
    ids = [-(1_000_000_000_000 + i) for i in range(groups)] + list(range(10_000_001, 10_000_001 + chats - groups))
    async with FakeBotApi() as fake:
        fake.set_flood_limits(global_per_sec=30, per_chat_per_sec=1, per_group_per_min=20)
        app = fake.application_builder().build()
        service = install(app, engine, config, inbox_settle_seconds=0)
        with service.store.transaction() as db:
            db.executemany("INSERT INTO subscriptions (chat_id, topic, created_at) VALUES (?, NULL, ?)",
                           [(c, time.time() - 5) for c in ids])
        if storm:
            fake.fail_next("sendMessage", 429, retry_after=1, count=storm)
        (config.inbox).mkdir(parents=True, exist_ok=True)
        (config.inbox / "brief.json").write_text(json.dumps(BRIEF))
        async with app:
            await app.start()
            started = time.perf_counter()
            deadline = started + timeout
            while time.perf_counter() < deadline:
                counts = service.store.counts()
                if counts.get("sent", 0) + counts.get("failed", 0) >= chats:
                    break
                await asyncio.sleep(0.5)
            await app.stop()
        sends = [r for r in fake.requests if r.method == "sendMessage"]
        ok = [r for r in sends if r.ok]
        per_chat = Counter(r.params["chat_id"] for r in ok)
        first, last = ok[0].timestamp, ok[-1].timestamp
        # sustained rate: messages between the first and last accepted send (excludes ingest time)
        rate = (len(ok) - 1) / (last - first) if len(ok) > 1 else 0.0
        worst_window = 0
        stamps = [r.timestamp for r in sends]
        j = 0
        for i, t in enumerate(stamps):
            while stamps[j] <= t - 1.0:
                j += 1
            worst_window = max(worst_window, i - j + 1)
        return {
            "chats": chats, "groups": groups, "injected_429": storm,
            "accepted": len(ok), "duplicates": sum(n - 1 for n in per_chat.values() if n > 1),
            "losses": len(set(ids) - set(per_chat)),
            "requests_during_retry_after": fake.requests_during_retry_after,
            "rejected_429": sum(1 for r in sends if r.status == 429),
            "messages_per_second": round(rate, 2), "fanout_seconds": round(last - first, 1),
            "max_requests_in_any_1s_window": worst_window,
            "outbox": service.store.counts(),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--groups", type=int, default=0)
    parser.add_argument("--storm", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(run(args.chats, args.groups, args.storm, args.timeout))
    print(json.dumps(result, indent=2))
    ok = (result["duplicates"] == 0 and result["losses"] == 0 and result["requests_during_retry_after"] == 0
          and result["messages_per_second"] >= 28)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
