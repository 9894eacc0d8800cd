"""All configuration, read from the environment (or `.env`) in one place and validated at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated

if TYPE_CHECKING:
    from index.engine import Engine

__all__ = ["EngineConfig", "BotConfig"]

_TOKEN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
# Telegram's rule for setWebhook's secret_token.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_CHANNEL_ID = re.compile(r"^-?\d{1,20}$")
_USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")
_LISTEN = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[^:\s\[\]]+):(?P<port>\d{1,5})$")


class EngineConfig(BaseSettings):
    """What every command needs: where the data lives and which embedding model to use."""

    # Empty values (`BRIEFBOT_MODEL=` as in .env.example) mean "use the default", not "the empty string".
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

    data_dir: Path = Field(Path("data"), alias="BRIEFBOT_DATA_DIR")
    model: str | None = Field(None, alias="BRIEFBOT_MODEL")
    # Ingest precision: auto = int8 where its retrieval gate passed on this machine, else bfloat16 where
    # the CPU has native bf16 units and the gate passed it, else float32 (index.precision, index.int8).
    precision: Literal["auto", "fp32", "bf16", "int8"] = Field("auto", alias="BRIEFBOT_PRECISION")
    # auto/openvino: the verified ONNX export on OpenVINO (index.onnx_embed); torch: PyTorch throughout.
    embed_backend: Literal["auto", "openvino", "torch"] = Field("auto", alias="BRIEFBOT_EMBED_BACKEND")
    # The per-user model cache (index.model_cache): BRIEFBOT_CACHE_DIR, else $XDG_CACHE_HOME/briefbot,
    # else ~/.cache/briefbot.
    cache_dir_setting: Path | None = Field(None, alias="BRIEFBOT_CACHE_DIR")
    # true: when a command has to make the export, it makes the float32 export (seconds) and goes on with it,
    # and a detached process runs the bf16/int8 retrieval gate (minutes); false: the command runs the gate itself.
    background_export: bool = Field(True, alias="BRIEFBOT_BACKGROUND_EXPORT")
    xdg_cache_home: str | None = Field(None, alias="XDG_CACHE_HOME")

    @property
    def cache_dir(self) -> Path:
        from index.model_cache import default_cache_dir

        return default_cache_dir(self.cache_dir_setting, self.xdg_cache_home)

    def engine(self, data_dir: Path | None = None) -> "Engine":
        """The engine these settings describe (`data_dir` overrides BRIEFBOT_DATA_DIR)."""
        from index.engine import Engine

        return Engine(data_dir or self.data_dir, self.model, precision=self.precision, backend=self.embed_backend,
                      cache_dir=self.cache_dir, background_export=self.background_export)


def _int_list(value: object) -> object:
    if isinstance(value, str):
        return [int(v) for v in re.split(r"[,\s]+", value.strip()) if v]
    return value


class BotConfig(EngineConfig):
    """The Telegram side's settings; a missing or malformed token fails here, never echoing it."""

    token: SecretStr = Field(alias="TELEGRAM_BOT_TOKEN")
    api_base_url: str = Field("https://api.telegram.org/bot", alias="TELEGRAM_API_BASE_URL")
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list, alias="BRIEFBOT_ADMIN_IDS")
    allowed_chat_ids: Annotated[list[int], NoDecode] = Field(default_factory=list, alias="BRIEFBOT_ALLOWED_CHAT_IDS")
    inbox_dir: Path | None = Field(None, alias="BRIEFBOT_INBOX_DIR")
    poll_seconds: float = Field(60.0, alias="BRIEFBOT_POLL_SECONDS", gt=0)
    feeds: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="BRIEFBOT_FEEDS")
    max_alert_age_days: int = Field(7, alias="BRIEFBOT_MAX_ALERT_AGE_DAYS", ge=0)
    # More new briefs than this for one chat in one poll are collapsed into one digest-style message.
    alert_burst: int = Field(5, alias="BRIEFBOT_ALERT_BURST", ge=1)
    # Channels whose posts become briefs: ids (-100…) or @usernames; the bot must be an admin there.
    source_channels: Annotated[list[int | str], NoDecode] = Field(default_factory=list, alias="BRIEFBOT_SOURCE_CHANNELS")
    # Published links may lead to loopback or private-network addresses (an intranet publisher; tests).
    publish_private_links: bool = Field(False, alias="BRIEFBOT_PUBLISH_PRIVATE_LINKS")
    # Webhook mode (instead of long polling) when set: the public HTTPS URL the reverse proxy serves.
    webhook_url: str | None = Field(None, alias="BRIEFBOT_WEBHOOK_URL")
    webhook_listen: str = Field("127.0.0.1:8080", alias="BRIEFBOT_WEBHOOK_LISTEN")
    webhook_secret: SecretStr | None = Field(None, alias="BRIEFBOT_WEBHOOK_SECRET")

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN.match(value.get_secret_value()):
            raise ValueError("TELEGRAM_BOT_TOKEN does not look like a bot token (digits:secret, from @BotFather)")
        return value

    @field_validator("admin_ids", "allowed_chat_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        return _int_list(value)

    @field_validator("source_channels", mode="before")
    @classmethod
    def _channels(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        channels: list[int | str] = []
        for item in (v for v in re.split(r"[,\s]+", value.strip()) if v):
            if _CHANNEL_ID.match(item):
                channels.append(int(item))
            elif name := _USERNAME.match(item):
                channels.append(name.group(1))
            else:
                raise ValueError(f"BRIEFBOT_SOURCE_CHANNELS: {item[:40]!r} is neither a channel id (-100…) nor an @username")
        return channels

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("https://") and urlsplit(value).hostname):
            raise ValueError("BRIEFBOT_WEBHOOK_URL must be the public https:// URL Telegram posts updates to")
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        match = _LISTEN.match(value.strip())
        if not match or not 1 <= int(match["port"]) <= 65535:
            raise ValueError("BRIEFBOT_WEBHOOK_LISTEN must be host:port, e.g. 127.0.0.1:8080")
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET.match(value.get_secret_value()):
            raise ValueError("BRIEFBOT_WEBHOOK_SECRET must be 1-256 characters from A-Z a-z 0-9 _ -")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> "BotConfig":
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("BRIEFBOT_WEBHOOK_SECRET is required when BRIEFBOT_WEBHOOK_URL is set "
                             "(1-256 characters from A-Z a-z 0-9 _ -)")
        return self

    @field_validator("feeds", mode="before")
    @classmethod
    def _feeds(cls, value: object) -> object:
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value

    @property
    def inbox(self) -> Path:
        return self.inbox_dir or self.data_dir / "inbox"

    @property
    def listen_address(self) -> tuple[str, int]:
        """BRIEFBOT_WEBHOOK_LISTEN as (host, port); brackets come off an IPv6 host."""
        match = _LISTEN.match(self.webhook_listen)
        assert match is not None  # validated above
        return match["host"].strip("[]"), int(match["port"])

    @property
    def webhook_path(self) -> str:
        """The path of BRIEFBOT_WEBHOOK_URL: the proxy forwards it unchanged, so the bot listens on it."""
        return urlsplit(self.webhook_url or "").path.strip("/")
