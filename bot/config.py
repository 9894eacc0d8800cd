"""All configuration, read from the environment (or `.env`) in one place and validated at start-up.

Read with the standard library: pydantic-settings cost every one-shot `briefbot ask` 0.16 s of imports,
a fifth of its time (docs/performance.md)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from index.engine import Engine

__all__ = ["EngineConfig", "BotConfig", "ConfigError", "Secret", "read_dotenv"]

_TOKEN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
# Telegram's rule for setWebhook's secret_token.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_CHANNEL_ID = re.compile(r"^-?\d{1,20}$")
_USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")
_LISTEN = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[^:\s\[\]]+):(?P<port>\d{1,5})$")
_SECRET_RULE = "1-256 characters from A-Z a-z 0-9 _ -"


class ConfigError(ValueError):
    """Settings that cannot be used; the message names each one and never shows its value."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("briefbot: invalid configuration: " + "; ".join(problems) + " (set it in the environment or .env)")


class Secret:
    """A value that is never printed: its repr and str are masked."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _setting(variable: str, parse: Callable[[str], Any] = str, default: Any = MISSING,
             factory: Callable[[], Any] | None = None) -> Any:
    """A field read from `variable`; `parse` turns its text into the value or raises ValueError saying why."""
    meta = {"variable": variable, "parse": parse}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError("must be one of " + ", ".join(allowed))
        return text
    return parse


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _number(kind: Callable[[str], float], least: float, inclusive: bool) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text.strip())
        except ValueError:
            raise ValueError(f"must be a{'n integer' if kind is int else ' number'}") from None
        if value < least or (value == least and not inclusive):
            raise ValueError(f"must be {'at least' if inclusive else 'greater than'} {least:g}")
        return value
    return parse


def _int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in re.split(r"[,\s]+", text.strip()) if v]
    except ValueError:
        raise ValueError("must be integers separated by commas") from None


def _channels(text: str) -> list[int | str]:
    channels: list[int | str] = []
    for item in (v for v in re.split(r"[,\s]+", text.strip()) if v):
        if _CHANNEL_ID.match(item):
            channels.append(int(item))
        elif name := _USERNAME.match(item):
            channels.append(name.group(1))
        else:
            raise ValueError(f"BRIEFBOT_SOURCE_CHANNELS: {item[:40]!r} is neither a channel id (-100…) nor an @username")
    return channels


def _feeds(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _token(text: str) -> Secret:
    if not _TOKEN.match(text):
        raise ValueError("TELEGRAM_BOT_TOKEN does not look like a bot token (digits:secret, from @BotFather)")
    return Secret(text)


def _webhook_secret(text: str) -> Secret:
    if not _SECRET.match(text):
        raise ValueError(f"BRIEFBOT_WEBHOOK_SECRET must be {_SECRET_RULE}")
    return Secret(text)


def _webhook_url(text: str) -> str:
    if not (text.startswith("https://") and urlsplit(text).hostname):
        raise ValueError("BRIEFBOT_WEBHOOK_URL must be the public https:// URL Telegram posts updates to")
    return text


def _listen(text: str) -> str:
    match = _LISTEN.match(text.strip())
    if not match or not 1 <= int(match["port"]) <= 65535:
        raise ValueError("BRIEFBOT_WEBHOOK_LISTEN must be host:port, e.g. 127.0.0.1:8080")
    return text.strip()


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=value lines (`export` and quotes allowed, `#` comments); a missing file is empty."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return {}
    values = {}
    for line in lines:
        key, sep, value = line.strip().removeprefix("export ").partition("=")
        if not sep or key.startswith("#"):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


@dataclass(frozen=True, kw_only=True)
class EngineConfig:
    """What every command needs: where the data lives and which embedding model to use."""

    data_dir: Path = _setting("BRIEFBOT_DATA_DIR", Path, Path("data"))
    model: str | None = _setting("BRIEFBOT_MODEL", default=None)
    # Ingest precision: auto = int8 where its retrieval gate passed on this machine, else bfloat16 where
    # the CPU has native bf16 units and the gate passed it, else float32 (index.precision, index.int8).
    precision: Literal["auto", "fp32", "bf16", "int8"] = _setting(
        "BRIEFBOT_PRECISION", _choice("auto", "fp32", "bf16", "int8"), "auto")
    # auto/openvino: the verified ONNX export on OpenVINO (index.onnx_embed); torch: PyTorch throughout.
    embed_backend: Literal["auto", "openvino", "torch"] = _setting(
        "BRIEFBOT_EMBED_BACKEND", _choice("auto", "openvino", "torch"), "auto")
    # The per-user model cache (index.model_cache): BRIEFBOT_CACHE_DIR, else $XDG_CACHE_HOME/briefbot,
    # else ~/.cache/briefbot.
    cache_dir_setting: Path | None = _setting("BRIEFBOT_CACHE_DIR", Path, None)
    # true: when a command has to make the export, it makes the float32 export (seconds) and goes on with it,
    # and a detached process runs the bf16/int8 retrieval gate (minutes); false: the command runs the gate itself.
    background_export: bool = _setting("BRIEFBOT_BACKGROUND_EXPORT", _bool, True)
    xdg_cache_home: str | None = _setting("XDG_CACHE_HOME", default=None)

    @classmethod
    def load(cls, env_file: Path | None = Path(".env"), **values: object) -> Self:
        """The settings from `values` (by variable name), else the environment, else `env_file`, else their
        defaults; an empty value means the default. Raises ConfigError naming every bad setting."""
        given = {**(read_dotenv(env_file) if env_file else {}), **{k: v for k, v in os.environ.items() if v},
                 **{name: str(value) for name, value in values.items()}}
        parsed: dict[str, Any] = {}
        problems: list[str] = []
        for spec in fields(cls):
            variable = spec.metadata["variable"]
            text = given.get(variable, "")
            if not text:
                if spec.default is MISSING and spec.default_factory is MISSING:
                    hint = " (get one from @BotFather)" if variable == "TELEGRAM_BOT_TOKEN" else ""
                    problems.append(f"{variable} is not set{hint}")
                continue
            try:
                parsed[spec.name] = spec.metadata["parse"](text)
            except ValueError as error:
                problems.append(str(error) if str(error).startswith(variable) else f"{variable}: {error}")
        if problems:
            raise ConfigError(problems)
        config = cls(**parsed)
        if problem := config.conflict():
            raise ConfigError([problem])
        return config

    @classmethod
    def variables(cls) -> tuple[str, ...]:
        """Every environment variable these settings read, in declaration order."""
        return tuple(spec.metadata["variable"] for spec in fields(cls))

    def conflict(self) -> str | None:
        """A rule across settings that this combination breaks."""
        return None

    @property
    def cache_dir(self) -> Path:
        from index.model_cache import default_cache_dir

        return default_cache_dir(self.cache_dir_setting, self.xdg_cache_home)

    def engine(self, data_dir: Path | None = None) -> Engine:
        """The engine these settings describe (`data_dir` overrides BRIEFBOT_DATA_DIR)."""
        from index.engine import Engine

        return Engine(data_dir or self.data_dir, self.model, precision=self.precision, backend=self.embed_backend,
                      cache_dir=self.cache_dir, background_export=self.background_export)


@dataclass(frozen=True, kw_only=True)
class BotConfig(EngineConfig):
    """The Telegram side's settings; a missing or malformed token fails here, never echoing it."""

    token: Secret = _setting("TELEGRAM_BOT_TOKEN", _token)
    api_base_url: str = _setting("TELEGRAM_API_BASE_URL", default="https://api.telegram.org/bot")
    admin_ids: list[int] = _setting("BRIEFBOT_ADMIN_IDS", _int_list, factory=list)
    allowed_chat_ids: list[int] = _setting("BRIEFBOT_ALLOWED_CHAT_IDS", _int_list, factory=list)
    inbox_dir: Path | None = _setting("BRIEFBOT_INBOX_DIR", Path, None)
    poll_seconds: float = _setting("BRIEFBOT_POLL_SECONDS", _number(float, 0, inclusive=False), 60.0)
    feeds: list[str] = _setting("BRIEFBOT_FEEDS", _feeds, factory=list)
    max_alert_age_days: int = _setting("BRIEFBOT_MAX_ALERT_AGE_DAYS", _number(int, 0, inclusive=True), 7)
    # More new briefs than this for one chat in one poll are collapsed into one digest-style message.
    alert_burst: int = _setting("BRIEFBOT_ALERT_BURST", _number(int, 1, inclusive=True), 5)
    # Channels whose posts become briefs: ids (-100…) or @usernames; the bot must be an admin there.
    source_channels: list[int | str] = _setting("BRIEFBOT_SOURCE_CHANNELS", _channels, factory=list)
    # Published links may lead to loopback or private-network addresses (an intranet publisher; tests).
    publish_private_links: bool = _setting("BRIEFBOT_PUBLISH_PRIVATE_LINKS", _bool, False)
    # Webhook mode (instead of long polling) when set: the public HTTPS URL the reverse proxy serves.
    webhook_url: str | None = _setting("BRIEFBOT_WEBHOOK_URL", _webhook_url, None)
    webhook_listen: str = _setting("BRIEFBOT_WEBHOOK_LISTEN", _listen, "127.0.0.1:8080")
    webhook_secret: Secret | None = _setting("BRIEFBOT_WEBHOOK_SECRET", _webhook_secret, None)

    def conflict(self) -> str | None:
        if self.webhook_url and self.webhook_secret is None:
            return f"BRIEFBOT_WEBHOOK_SECRET is required when BRIEFBOT_WEBHOOK_URL is set ({_SECRET_RULE})"
        return None

    @property
    def inbox(self) -> Path:
        return self.inbox_dir or self.data_dir / "inbox"

    @property
    def listen_address(self) -> tuple[str, int]:
        """BRIEFBOT_WEBHOOK_LISTEN as (host, port); brackets come off an IPv6 host."""
        match = _LISTEN.match(self.webhook_listen)
        assert match is not None  # validated when read
        return match["host"].strip("[]"), int(match["port"])

    @property
    def webhook_path(self) -> str:
        """The path of BRIEFBOT_WEBHOOK_URL: the proxy forwards it unchanged, so the bot listens on it."""
        return urlsplit(self.webhook_url or "").path.strip("/")
