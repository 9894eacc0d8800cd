"""Memory of the real `briefbot serve` process on a built index, and whether it loaded PyTorch.

Usage: python bench/bot_rss.py [DATA_DIR]   (default: bench/.cache/scale-100000, built by bench/run.py)

Starts `briefbot serve` as a child process against the fake Telegram Bot API on 127.0.0.1
(tests/fakebotapi.py), a subscriber registers a topic (alerts embed topics) and a user asks a
question; RSS is read from /proc/<pid>/status after start-up and after the answer (median of
--runs starts). "torch loaded" checks the child's memory maps for libtorch.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakebotapi import FakeBotApi  # noqa: E402

BRIEFBOT = str(ROOT / ".venv" / "bin" / "briefbot")
TOKEN = FakeBotApi.DEFAULT_TOKEN.split(":")[0] + ":" + "A" * 35


def rss_mb(pid: int) -> float:
    line = next(line for line in open(f"/proc/{pid}/status") if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def torch_loaded(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


async def one_run(data_dir: Path) -> tuple[float, float, bool]:
    """(RSS after start, RSS after a subscription and an answer, torch loaded) of one serve process."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "data"
        work.mkdir()
        for name in ("index", "models"):  # the built index as-is, fresh bot state
            (work / name).symlink_to((data_dir / name).resolve())
        async with FakeBotApi(token=TOKEN) as fake:
            env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": fake.ptb_base_url,
                   "BRIEFBOT_DATA_DIR": str(work), "HF_HUB_OFFLINE": "1", "BRIEFBOT_POLL_SECONDS": "3600"}
            child = await asyncio.create_subprocess_exec(BRIEFBOT, "serve", env=env, cwd=tmp,
                                                         stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            try:
                await fake.wait_for_request("getUpdates", None, 120)
                started = rss_mb(child.pid)
                fake.user_message(501, "/subscribe rare earth magnets")
                await fake.wait_for_request("sendMessage", lambda r: r.params.get("chat_id") == 501, 120)
                fake.user_message(502, "What happened with Geneva?")
                await fake.wait_for_request("sendMessage", lambda r: r.params.get("chat_id") == 502, 120)
                return started, rss_mb(child.pid), torch_loaded(child.pid)
            finally:
                child.terminate()
                await child.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", nargs="?", type=Path, default=ROOT / "bench" / ".cache" / "scale-100000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (args.data_dir / "index" / "current").exists() or shutil.which(BRIEFBOT) is None:
        raise SystemExit(f"no built index at {args.data_dir} (run bench/run.py first)")
    runs = [asyncio.run(one_run(args.data_dir)) for _ in range(args.runs)]
    passages = (args.data_dir / "index" / "current" / "manifest.json").read_text().split('"count": ')[1].split(",")[0]
    print(f"briefbot serve on {args.data_dir.name} ({passages} passages), median of {args.runs} starts:")
    print(f"  RSS after start:                     {statistics.median(r[0] for r in runs):.0f} MB")
    print(f"  RSS after /subscribe and an answer:  {statistics.median(r[1] for r in runs):.0f} MB")
    print(f"  PyTorch loaded:                      {'yes' if any(r[2] for r in runs) else 'no'}")


if __name__ == "__main__":
    main()
