"""Push alerts (placeholder until the alerts work lands): `install` wires them into the Application."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.config import BotConfig
    from index.engine import Engine

__all__ = ["install"]


def install(application: Application, engine: Engine, config: BotConfig) -> None:
    """Register alert commands and jobs on the application."""
