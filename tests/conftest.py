"""Shared pytest fixtures."""

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.fakebotapi import FakeBotApi


@pytest_asyncio.fixture
async def fake_bot_api() -> AsyncIterator[FakeBotApi]:
    """A running fake Telegram Bot API server (see tests/fakebotapi.py)."""
    async with FakeBotApi() as fake:
        yield fake
