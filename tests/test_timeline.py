"""Story questions answered as a dated timeline (issue 19): detection, membership, entry choice, date
order and as-of, follow-ups, and the CLI's output. Real FAISS, the hash embedder."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from index.conversation import Conversation
from index.engine import Engine
from index.timeline import story_question
from tests.conftest import ARTICLES

BACKGROUND = "Storm Ava, the strongest storm of the winter, formed over the Atlantic in late February."
STEPS = [
    ("2025-03-01", "Storm Ava batters Brittany", "Storm Ava made landfall in Brittany on Saturday with winds of 150 km/h, "
     "cutting power to 200,000 homes."),
    ("2025-03-03", "Storm Ava floods Normandy", "Floodwater from Storm Ava swept through Normandy villages on Monday, "
     "and three people died when a bridge collapsed near Caen."),
    ("2025-03-06", "Storm Ava recovery begins", "Insurers estimated Storm Ava's damage at 2 billion euros on Thursday "
     "as the French government declared a natural disaster in twelve departments."),
]
FILLER = ("Emergency crews worked through the night. Residents were told to stay indoors and avoid the coast. "
          "Meteorologists said the season had been unusually active.")
# Shares the story's words (storm, Brittany, coast, power) but is another storm.
LOOKALIKE = ("2025-03-04", "Storm Bella batters Brittany coast",
             "Storm Bella hit the Brittany coast on Tuesday, cutting power to 50,000 homes as winds reached 120 km/h.")
# Mentions the story once among other news.
_ITEMS = ["Markets fell on Wednesday as bond yields rose and investors sold technology shares",
          "The central bank kept interest rates unchanged and said inflation was easing slowly",
          "A new museum of photography opened in Lyon with three hundred prints from private collections",
          "Voters in Hamburg go to the polls on Sunday in a city election seen as a test for the government",
          "A football club from Porto signed a young striker for a record fee after a long negotiation"]
ROUNDUP = ("2025-03-05", "Five things to know on Wednesday",
           "\n\n".join(f"{item}. " + " ".join(f"{item.split()[1].capitalize()} watchers expect more news, analysts "
                                                f"said in note {n}." for n in range(12)) for item in _ITEMS)
           + "\n\nRepairs continue in Brittany after Storm Ava.")


def _brief(folder: Path, name: str, day: str, title: str, text: str, background: bool = True) -> None:
    opening = f"{BACKGROUND} " if background else ""
    (folder / f"{name}.txt").write_text(f"{title}\n\n{day}\n\n{text} {opening}{FILLER}\n", encoding="utf-8")


@pytest.fixture
def storm_engine(tmp_path: Path, hash_engine_factory: Callable[..., Engine]) -> Engine:
    folder = tmp_path / "briefs"
    folder.mkdir()
    for i, (day, title, text) in enumerate(STEPS):
        _brief(folder, f"ava{i}", day, title, text)
    _brief(folder, "bella", *LOOKALIKE, background=False)
    _brief(folder, "roundup", *ROUNDUP, background=False)
    return hash_engine_factory([folder])


@pytest.mark.parametrize(("question", "subject"), [
    ("What happened with Geneva?", "Geneva"),
    ("what's going on with the rare earth talks?", "rare earth talks"),
    ("How did the Artemis I launch unfold?", "Artemis I launch"),
    ("Catch me up on Hurricane Ian", "Hurricane Ian"),
    ("timeline of Storm Ava", "Storm Ava"),
    ("/timeline Brittney Griner", "Brittney Griner"),
    ("timeline Geneva", "Geneva"),
    ("What has been happening with Serena Williams lately?", "Serena Williams"),
    ("Summarize the Geneva talks", "Geneva talks"),
    ("Can you summarise the Geneva talks in one line, please?", "Geneva talks"),
    ("Explain the Geneva truce to me like I'm five", "Geneva truce"),
    ("Brief me on Lynas", "Lynas"),
    ("Give me the rundown on MP Materials", "MP Materials"),
    ("Any updates on the House delegation?", "House delegation"),
    ("Where does Lynas stand now?", "Lynas"),
    ("TL;DR: Geneva", "Geneva"),
    ("Remind me what happened with Lynas", "Lynas"),
    ("Summarize Lynas this month", "Lynas this month"),
    ("Whats up with MP Materials", "MP Materials"),
    ("whats happening with the truce?", "truce"),
])
def test_story_questions_are_recognised(question: str, subject: str) -> None:
    found = story_question(question)
    assert found is not None and found.subject == subject


@pytest.mark.parametrize("question", [
    "Who controls rare earth processing?", "What did Jamieson Greer say?", "When did the Geneva talks happen?",
    "What happened?", "what happened with it?", "more", "and terbium?", "Why did the truce fail?",
    # the conversation, a question of its own, or only time words: not the story of anything
    "Show me more", "Summarize the last answer", "show me the sources", "Explain that", "Tell me about it",
    "Explain why the truce failed", "Summarize this week's briefs", "Recap the week", "What happened with the news?",
])
def test_other_questions_are_not_story_questions(question: str) -> None:
    assert story_question(question) is None


def test_the_story_holds_its_briefs_not_a_lookalike_or_a_passing_mention(storm_engine: Engine) -> None:
    answer, _ = storm_engine.ask("What happened with Storm Ava?")
    assert answer.timeline is not None
    titles = [e.citation.title for e in answer.timeline.entries]
    assert titles == [title for _, title, _ in STEPS]
    assert answer.story == "Storm Ava"


def test_each_entry_says_what_its_brief_adds_not_the_shared_background(storm_engine: Engine) -> None:
    answer, _ = storm_engine.ask("Catch me up on Storm Ava")
    assert answer.timeline is not None
    texts = [e.text for e in answer.timeline.entries]
    assert texts == [text for _, _, text in STEPS]
    assert all(len(t.split()) <= 30 for t in texts)
    assert all(a != b for a, b in zip(texts, texts[1:]))
    assert answer.brief and answer.timeline.shown == (0, 1, 2)  # the brief stays; all three shown


def test_an_entry_names_the_subject_not_the_newsletters_chatter(tmp_path: Path,
                                                                hash_engine_factory: Callable[..., Engine]) -> None:
    """A roundup's lede greets its readers; its news about the story is the entry ("Hey, just making sure you've
    had some water today." stood for Brittney Griner's sentencing)."""
    folder = tmp_path / "briefs"
    folder.mkdir()
    for i, (day, title, text) in enumerate(STEPS):
        _brief(folder, f"ava{i}", day, title, text)
    news = "Storm Ava left Brittany on Friday as emergency crews worked along the coast."
    (folder / "roundup.txt").write_text(
        "Storm Ava and four more things to know on Friday\n\n2025-03-07\n\n"
        "Hey, just making sure you've had plenty of water today, dear readers and friends. "
        f"Pour yourself a coffee and settle in for the weekend ahead. {news} {BACKGROUND}\n", encoding="utf-8")
    answer, _ = hash_engine_factory([folder]).ask("What happened with Storm Ava?")
    assert answer.timeline is not None
    assert answer.timeline.entries[-1].text == news


def test_an_entry_is_never_small_talk_to_the_reader(tmp_path: Path, hash_engine_factory: Callable[..., Engine]) -> None:
    """A roundup whose lede names no storm stood in Hurricane Ian's story as "If you've patiently waited to break out
    the decorations and the pumpkin spice, now's your time.": a sentence that speaks to the reader is no entry."""
    folder = tmp_path / "briefs"
    folder.mkdir()
    for i, (day, title, text) in enumerate(STEPS):
        _brief(folder, f"ava{i}", day, title, text)
    (folder / "roundup.txt").write_text(
        "Storm Ava and four more things to know on Friday\n\n2025-03-07\n\n"
        "If you've patiently waited for calm weather on the coast of Brittany after the storm, now's your time. "
        "Markets fell on Friday as bond yields rose.\n", encoding="utf-8")
    answer, _ = hash_engine_factory([folder]).ask("What happened with Storm Ava?")
    assert answer.timeline is not None
    assert answer.timeline.entries[-1].text == "Markets fell on Friday as bond yields rose."


def test_an_entry_is_the_briefs_lede_not_an_aside_full_of_rare_words(tmp_path: Path,
                                                                     hash_engine_factory: Callable[..., Engine]) -> None:
    """News is written lede first: a later sentence with words no other brief has is an aside, not the news."""
    folder = tmp_path / "briefs"
    folder.mkdir()
    for i, (day, title, text) in enumerate(STEPS):
        _brief(folder, f"ava{i}", day, title, text)
    # The lede reuses words of the entry before it (government, departments); the aside's words are all new.
    lede = "The French government said on Saturday that the recovery from Storm Ava in the twelve departments was over."
    aside = ("Storm Ava reminded a retired Quimper lighthouse keeper of the Great Gale of 1987, when his "
             "grandmother's orchard vanished overnight.")
    _brief(folder, "ava3", "2025-03-08", "Storm Ava cleanup ends",
           f"{lede} Emergency crews left the coast on Saturday evening after a long week. {aside}")
    answer, _ = hash_engine_factory([folder]).ask("What happened with Storm Ava?")
    assert answer.timeline is not None
    assert answer.timeline.entries[-1].text == lede


def test_dates_run_oldest_first_and_nothing_after_the_as_of_date(storm_engine: Engine) -> None:
    answer, _ = storm_engine.ask("timeline of Storm Ava", as_of=date(2025, 3, 4))
    assert answer.timeline is not None
    dates = [e.published_at for e in answer.timeline.entries]
    assert dates == [date(2025, 3, 1), date(2025, 3, 3)]
    assert {c.published_at for c in answer.citations} <= {date(2025, 3, 1), date(2025, 3, 3), None}
    one, _ = storm_engine.ask("timeline of Storm Ava", as_of=date(2025, 3, 2))
    assert one.timeline is None and one.story is None  # a story needs two dated briefs


def test_a_long_story_shows_eight_entries_and_more_shows_the_rest(tmp_path: Path,
                                                                  hash_engine_factory: Callable[..., Engine]) -> None:
    folder = tmp_path / "long"
    folder.mkdir()
    for day in range(1, 12):
        _brief(folder, f"day{day}", f"2025-04-{day:02d}", f"Storm Ava update {day}",
               f"On day {day} Storm Ava {'moved north' if day % 2 else 'stalled'} and crews counted {day * 7} fallen "
               f"trees in district {day}.")
    engine = hash_engine_factory([folder])
    conversation = Conversation()
    first = engine.converse(conversation, "What happened with Storm Ava?")
    assert first.timeline is not None and len(first.timeline.entries) == 11
    shown = first.timeline.shown
    assert len(shown) == 8 and shown[0] == 0 and shown[-1] == 10 and first.timeline.remaining == 3
    more = engine.converse(conversation, "more")
    assert more.timeline is not None and len(more.timeline.shown) == 3
    assert not set(more.timeline.shown) & set(shown)


def test_follow_ups_after_a_timeline(storm_engine: Engine) -> None:
    conversation = Conversation()
    storm_engine.converse(conversation, "What happened with Storm Ava?")
    before = storm_engine.converse(conversation, "and before that?")
    assert before.timeline is None
    assert before.notice and "before 1 March 2025" in before.notice  # the story starts there
    later = Conversation()
    storm_engine.converse(later, "Storm Ava insurers damage estimate", as_of=date(2025, 3, 7))
    earlier = storm_engine.converse(later, "and before that?", as_of=date(2025, 3, 7))
    assert earlier.timeline is not None  # the story up to the brief that answered (6 March)
    assert [e.published_at for e in earlier.timeline.entries] == [date(2025, 3, 1), date(2025, 3, 3)]
    assert all(p.hit.citation.published_at < date(2025, 3, 6) for p in earlier.passages)  # type: ignore[operator]


def test_tldr_in_a_conversation_tells_its_topics_story(storm_engine: Engine) -> None:
    """"tl;dr" after a question listed the newest briefs on anything; alone it still does."""
    conversation = Conversation()
    storm_engine.converse(conversation, "How strong was Storm Ava?")
    for request in ("tl;dr", "summarize it", "Can you give me a quick summary?"):
        summary = storm_engine.converse(Conversation(list(conversation.turns)), request)
        assert summary.resolved_query == "What happened with Storm Ava?", request
        assert summary.timeline is not None, request
    assert storm_engine.ask("tl;dr")[0].resolved_query == "What's?"  # no conversation: the newest briefs
    assert storm_engine.converse(conversation, "what's new?").timeline is None  # the digest whatever came before


def test_a_question_about_someone_after_a_timeline_is_answered_normally(hash_engine_factory: Callable[..., Engine]) -> None:
    engine = hash_engine_factory([ARTICLES])
    conversation = Conversation()
    engine.converse(conversation, "timeline of China rare earth exports")
    greer = engine.converse(conversation, "What did Greer say?")
    assert greer.timeline is None and "Greer" in " ".join(p.hit.chunk.text for p in greer.passages)


def test_ask_prints_the_timeline_after_the_brief_and_json_carries_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                   storm_engine: Engine) -> None:
    data = ["--data-dir", str(storm_engine.data_dir)]
    env_model = pytest.MonkeyPatch()
    env_model.setenv("BRIEFBOT_MODEL", "hash")
    try:
        assert main(["ask", *data, "What happened with Storm Ava?"]) == 0
        text = capsys.readouterr().out
        assert main(["ask", "--json", *data, "What happened with Storm Ava?"]) == 0
        record = json.loads(capsys.readouterr().out)
        assert main(["ask", "--json", *data, "Who made landfall in Brittany?"]) == 0
        other = json.loads(capsys.readouterr().out)
    finally:
        env_model.undo()
    assert text.index("Timeline: Storm Ava") < text.index("1. ")
    assert "2025-03-01 · Storm Ava made landfall in Brittany" in text
    assert [e["date"] for e in record["timeline"]] == ["2025-03-01", "2025-03-03", "2025-03-06"]
    assert set(record["timeline"][0]) >= {"date", "text", "rank", "citation"}
    assert record["timeline"][0]["citation"]["title"] == "Storm Ava batters Brittany"
    assert other["timeline"] == []
