"""The terminal conversation (`briefbot chat`) on the sample briefs, with the deterministic fake embedder."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bot.cli import main
from index.engine import Engine


def test_chat_answers_questions_and_follow_ups_and_treats_commands_as_commands(
        hash_engine_factory: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """"/help" used to be searched as a question about the briefs; a blank line was too."""
    engine = hash_engine_factory()
    lines: Iterator[str] = iter(["", "/help", "What happened with Geneva?", "more", "/quit", "never read"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    monkeypatch.setenv("BRIEFBOT_MODEL", "hash")
    assert main(["chat", "--data-dir", str(engine.data_dir)]) == 0
    out = capsys.readouterr().out
    assert out.count("/help shows this again") == 2  # on start and for /help
    assert out.count("Sources:") == 1  # the question; nothing for the blank line or the commands
    assert "No more relevant passages for that question." in out  # "more" followed it up
    assert "Nothing in the briefs answers" not in out
    assert next(lines) == "never read"


def test_chat_ends_at_end_of_input(hash_engine_factory: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    engine = hash_engine_factory()

    def closed(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", closed)
    monkeypatch.setenv("BRIEFBOT_MODEL", "hash")
    assert main(["chat", "--data-dir", str(engine.data_dir)]) == 0


def test_chat_lists_the_last_answers_sources_when_asked_for_the_link(
        hash_engine_factory: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    engine = hash_engine_factory()
    lines: Iterator[str] = iter(["source?", "Which team won the 1998 football World Cup final in Paris?", "link?",
                                 "What happened with Geneva?", "link please", "/quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    monkeypatch.setenv("BRIEFBOT_MODEL", "hash")
    assert main(["chat", "--data-dir", str(engine.data_dir)]) == 0
    out = capsys.readouterr().out
    assert "Ask a question first: every answer ends with its sources" in out
    assert "The last answer cited no brief: every answer ends with its sources" in out  # after a refusal
    answered, listed = out.split("Sources:")[1:3]
    cited = [line for line in answered.splitlines() if line.startswith("[")]
    assert cited and [line for line in listed.splitlines() if line.startswith("[")] == cited
