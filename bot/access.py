"""Who may use the bot: the allow-list of chats and the admin list, from `BotConfig`."""

from __future__ import annotations

from bot.config import BotConfig

__all__ = ["chat_allowed", "is_admin", "REFUSAL"]

REFUSAL = "Sorry, this bot is private. Ask its operator to add this chat."


def chat_allowed(config: BotConfig, chat_id: int | None) -> bool:
    """An empty allow-list means open to everyone."""
    return not config.allowed_chat_ids or (chat_id is not None and chat_id in config.allowed_chat_ids)


def is_admin(config: BotConfig, user_id: int | None) -> bool:
    return user_id is not None and user_id in config.admin_ids
