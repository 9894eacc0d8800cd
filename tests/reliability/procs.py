"""Subprocess helpers: `briefbot ingest` and `briefbot serve` as real processes, killed with SIGKILL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from tests.conftest import BOT_TOKEN, ROOT

BRIEFBOT = str(Path(sys.executable).with_name("briefbot"))


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFBOT_", "TELEGRAM_"))}
    env.update(BRIEFBOT_DATA_DIR=str(data_dir), BRIEFBOT_MODEL="hash", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PYTHONPATH=str(ROOT), TQDM_DISABLE="1")
    env.update(extra)
    return env


class Proc:
    """One child process with its stdout/stderr captured to files (scanned for the token afterwards)."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.args, self.env, self.cwd, self.log = args, env, cwd, log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> Proc:
        self.cwd.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("ab")
        self.process = await asyncio.create_subprocess_exec(*self.args, env=self.env, cwd=self.cwd, stdout=handle,
                                                            stderr=handle, start_new_session=True)
        handle.close()
        return self

    def kill9(self) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            # The child may already be dead and reaped by asyncio's watcher before `returncode` is set
            # (the adversarial trial kills it twice): that is the outcome we wanted, not an error.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)

    async def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (a graceful stop), then SIGKILL if it does not exit in time."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except asyncio.TimeoutError:
                self.kill9()
        return await self.process.wait()

    async def wait(self, timeout: float) -> int:
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), timeout)


def serve(data_dir: Path, api_base_url: str, log: Path, **extra: str) -> Proc:
    env = base_env(data_dir, TELEGRAM_BOT_TOKEN=BOT_TOKEN, TELEGRAM_API_BASE_URL=api_base_url,
                   BRIEFBOT_POLL_SECONDS="0.2", **extra)
    return Proc([BRIEFBOT, "serve"], env, data_dir.parent / "cwd", log)


def ingest(data_dir: Path, paths: list[Path], log: Path) -> Proc:
    return Proc([BRIEFBOT, "ingest", *map(str, paths)], base_env(data_dir), data_dir.parent / "cwd", log)
