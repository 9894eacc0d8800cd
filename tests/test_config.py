"""The settings reader (bot/config.py): where each value comes from, and how a bad one is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import BotConfig, ConfigError, EngineConfig, read_dotenv

TOKEN = "123456789:AAH-briefbot-test-token-0123456789abcdef"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for variable in BotConfig.variables():
        monkeypatch.delenv(variable, raising=False)


def test_a_dotenv_file_reads_as_python_dotenv_writes_it(tmp_path: Path) -> None:
    env = tmp_path / "settings.env"
    env.write_text("# a comment\nexport BRIEFBOT_MODEL='/models/mini lm'\nBRIEFBOT_FEEDS = https://a.test/rss # two\n"
                   'BRIEFBOT_WEBHOOK_SECRET="s#cret"\nnot a setting\n\nBRIEFBOT_INBOX_DIR=\n')
    assert read_dotenv(env) == {"BRIEFBOT_MODEL": "/models/mini lm", "BRIEFBOT_FEEDS": "https://a.test/rss",
                                "BRIEFBOT_WEBHOOK_SECRET": "s#cret", "BRIEFBOT_INBOX_DIR": ""}
    assert read_dotenv(tmp_path / "missing.env") == {}


def test_given_values_beat_the_environment_which_beats_the_dotenv_file(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("BRIEFBOT_PRECISION=bf16\nBRIEFBOT_MODEL=hash\nBRIEFBOT_DATA_DIR=from-file\n")
    monkeypatch.setenv("BRIEFBOT_PRECISION", "fp32")
    monkeypatch.setenv("BRIEFBOT_DATA_DIR", "")  # empty means "not set": the file's value stands
    config = EngineConfig.load()
    assert (config.precision, config.model, config.data_dir) == ("fp32", "hash", Path("from-file"))
    assert EngineConfig.load(BRIEFBOT_PRECISION="int8").precision == "int8"
    assert EngineConfig.load(None).model is None  # no file: the default


def test_every_bad_setting_is_named_once_and_no_value_is_shown() -> None:
    with pytest.raises(ConfigError) as caught:
        BotConfig.load(None, TELEGRAM_BOT_TOKEN="12345:too-short-secret", BRIEFBOT_POLL_SECONDS="0",
                       BRIEFBOT_ADMIN_IDS="7,x", BRIEFBOT_BACKGROUND_EXPORT="maybe", BRIEFBOT_ALERT_BURST="many")
    message = str(caught.value)
    assert message.startswith("briefbot: invalid configuration: ") and message.endswith("(set it in the environment or .env)")
    assert len(caught.value.problems) == 5 and "too-short" not in message and "maybe" not in message
    for expected in ("TELEGRAM_BOT_TOKEN does not look like a bot token", "BRIEFBOT_POLL_SECONDS: must be greater than 0",
                     "BRIEFBOT_ADMIN_IDS: must be integers", "BRIEFBOT_BACKGROUND_EXPORT: must be true or false",
                     "BRIEFBOT_ALERT_BURST: must be an integer"):
        assert expected in message


def test_values_are_typed_and_the_token_is_never_printed() -> None:
    config = BotConfig.load(None, TELEGRAM_BOT_TOKEN=TOKEN, BRIEFBOT_ADMIN_IDS="7, 8", BRIEFBOT_POLL_SECONDS=0.5,
                            BRIEFBOT_SOURCE_CHANNELS="@MetalsDesk -1001234567890", BRIEFBOT_PUBLISH_PRIVATE_LINKS="yes")
    assert config.admin_ids == [7, 8] and config.poll_seconds == 0.5 and config.publish_private_links
    assert config.source_channels == ["MetalsDesk", -1001234567890] and config.inbox == Path("data/inbox")
    assert config.token.get_secret_value() == TOKEN and TOKEN not in repr(config) and TOKEN not in str(config.token)
