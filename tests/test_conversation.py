"""Follow-up resolution without an LLM."""

from __future__ import annotations

from index.conversation import Conversation, Turn, people_in, resolve

IDF = {"geneva": 2.0, "terbium": 2.5, "dysprosium": 2.5, "price": 1.2, "greer": 3.0, "fall": 1.5, "apart": 1.5}


def idf(term: str) -> float:
    return IDF.get(term, 0.5)


def _conversation(*turns: Turn) -> Conversation:
    conversation = Conversation()
    for turn in turns:
        conversation.add(turn)
    return conversation


def test_first_question_is_new() -> None:
    assert resolve("What happened with Geneva?", Conversation(), idf).kind == "new"


def test_more_pages_the_previous_question() -> None:
    conv = _conversation(Turn("What happened with Geneva?", "What happened with Geneva?", offset=0, k=3))
    resolution = resolve("more", conv, idf)
    assert (resolution.kind, resolution.query, resolution.offset) == ("more", "What happened with Geneva?", 3)


def test_and_x_swaps_the_focus_term() -> None:
    conv = _conversation(Turn("What are dysprosium prices doing?", "What are dysprosium prices doing?"))
    resolution = resolve("and terbium?", conv, idf)
    assert resolution.kind == "swap"
    assert resolution.query == "What are terbium prices doing?"


def test_he_becomes_the_person_of_the_last_answer() -> None:
    conv = _conversation(Turn("What happened with Geneva?", "What happened with Geneva?", people=("Jamieson Greer",)))
    resolution = resolve("what did he say?", conv, idf)
    assert resolution.kind == "reference"
    assert "Jamieson Greer" in resolution.query and "Geneva" in resolution.query


def test_it_carries_the_subject_along() -> None:
    conv = _conversation(Turn("What happened with Geneva?", "What happened with Geneva?"))
    assert "Geneva" in resolve("why did it fall apart?", conv, idf).query


def test_self_contained_question_is_not_rewritten() -> None:
    conv = _conversation(Turn("What happened with Geneva?", "What happened with Geneva?"))
    assert resolve("Who controls rare earth processing in China?", conv, idf).kind == "new"


def test_people_prefers_the_question_then_quoted_speakers() -> None:
    passages = ["U.S. Trade Representative Jamieson Greer stated on CNBC that the deal was dead."]
    assert people_in("what happened in Geneva", passages) == ("Jamieson Greer",)
    assert people_in("Did Adam Smith visit?", passages)[0] == "Adam Smith"


def test_conversation_round_trips_and_is_capped() -> None:
    conv = _conversation(*[Turn(f"q{i}", f"q{i}", article_ids=("a",)) for i in range(50)])
    again = Conversation.from_json(conv.to_json())
    assert again.turns == conv.turns and len(again.turns) == 20
