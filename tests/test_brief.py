"""The brief's sentence choice: one test per question type on short synthetic passages, and what
never enters a brief (headings, fragments, questions, near-copies)."""

from __future__ import annotations

import numpy as np

from index.brief import (AnswerType, BriefWeights, Closeness, answer_type, candidate_sentences, choose_brief, closeness,
                         score_sentences)
from index.records import Chunk


def _idf(term: str) -> float:
    return 1.0


def _chunks(*texts: str) -> list[Chunk]:
    """Passages from the middle of their articles (no lede)."""
    return [Chunk(f"a{i}", 1, text) for i, text in enumerate(texts)]


def _dense(question: np.ndarray) -> Closeness:
    return Closeness(question.astype(np.float32), np.zeros(len(question), np.float32))


def _best(question: str, passage: str) -> str:
    sentences = candidate_sentences(_chunks(passage))
    flat = _dense(np.zeros(len(sentences)))  # only the lexical and type signals decide here
    chosen = choose_brief(sentences, score_sentences(question, sentences, _idf, flat))
    return chosen[0].text


def test_question_types_are_recognised() -> None:
    assert answer_type("Who led the House delegation to Beijing?") == AnswerType.PERSON
    assert answer_type("Which company bought the port operator?") == AnswerType.PERSON
    assert answer_type("How much of rare earth processing does China control?") == AnswerType.NUMBER
    assert answer_type("When did the Geneva talks take place?") == AnswerType.DATE
    assert answer_type("Where might Trump and Xi meet?") == AnswerType.PLACE
    assert answer_type("What did Jamieson Greer say on CNBC?") == AnswerType.QUOTE


def test_who_prefers_a_sentence_with_a_name() -> None:
    passage = ("The delegation travelled to Beijing for talks on rare earth supplies this month. "
               "The delegation was led by Representative Adam Smith of Washington State.")
    assert "Adam Smith" in _best("Who led the delegation to Beijing?", passage)


def test_how_many_prefers_a_number() -> None:
    passage = ("China controls the processing of rare earth elements around the world today. "
               "It holds over 85% of the global processing capacity for rare earth elements.")
    assert "85%" in _best("How much rare earth processing does China control?", passage)


def test_when_prefers_a_date() -> None:
    passage = ("The Geneva talks produced a pragmatic breakthrough on export licences for magnets. "
               "The Geneva talks were held on May 12 after weeks of tension between the two sides.")
    assert "May 12" in _best("When were the Geneva talks?", passage)


def test_where_prefers_a_place() -> None:
    passage = ("Trump and Xi might meet later this year to settle the trade questions between them. "
               "Officials said a meeting between Trump and Xi could take place in South Korea during the summit.")
    assert "South Korea" in _best("Where might Trump and Xi meet?", passage)


def test_what_did_x_say_prefers_his_quote() -> None:
    passage = ("Jamieson Greer is the U.S. Trade Representative and appeared on CNBC this week. "
               "Greer stated on CNBC that “China’s stalling violates the spirit and the letter of the Geneva agreement.”")
    assert "“China’s stalling" in _best("What did Jamieson Greer say on CNBC?", passage)


def test_a_brief_holds_no_heading_fragment_or_near_copy() -> None:
    passages = ["Can Geneva Be Salvaged?\nThe Geneva accord was widely seen as a step toward stabilizing trade tensions. "
                "Key shipments of magnets remain stalled at Chinese ports.",
                "The Geneva accord was widely seen as a step toward stabilizing the trade tensions. "
                "Exports of dysprosium and terbium fell.\nSee more",
                "Expedited export licences were promised in Geneva but never issued by Beijing. "
                "So what did the Geneva accord change for magnet makers?"]
    sentences = candidate_sentences(_chunks(*passages))
    texts = [s.text for s in sentences]
    assert "Can Geneva Be Salvaged?" not in texts and "See more" not in texts
    assert not any(t.endswith("?") for t in texts), "a question in the text briefs nobody"
    similarity = _dense(np.linspace(0.9, 0.5, len(sentences)))
    chosen = choose_brief(sentences, score_sentences("What happened with the Geneva accord?", sentences, _idf, similarity))
    chosen_texts = [c.text for c in chosen]
    assert 2 <= len(chosen) <= 4 and sum(len(t.split()) for t in chosen_texts) <= BriefWeights().max_words
    assert sum("widely seen as a step toward stabilizing" in t for t in chosen_texts) == 1  # no near-copy
    assert all(c.rank in (1, 2, 3) for c in chosen)


def test_the_sentence_the_other_passages_agree_with_is_central() -> None:
    passages = ["Shipments of magnets stalled at the border in June.", "Officials met in a hotel near the lake in June."]
    sentences = candidate_sentences(_chunks(*passages))
    axes = {"question": [1.0, 0.0, 0.0], "Shipments of magnets stalled at the border in June.": [0.6, 0.8, 0.0],
            "Officials met in a hotel near the lake in June.": [0.6, 0.0, 0.8]}

    def embed(texts: list[str]) -> np.ndarray:  # the candidates are passages themselves; the first is echoed twice
        return np.array([axes.get(t, axes[passages[0]]) for t in ["question", *texts[1:-1], passages[0]]], np.float32)

    dense = closeness("question", sentences, [passages[0], passages[0]], embed)
    assert np.allclose(dense.question, [0.6, 0.6]) and dense.passages[0] > 0 > dense.passages[1]


def test_the_lede_counts_only_at_the_start_of_an_article() -> None:
    text = "First sentence of the story is here. Second sentence of the story is here. Third sentence of it is here."
    opening, later = candidate_sentences([Chunk("a", 0, text), Chunk("b", 3, text)])[::3][:2], candidate_sentences([Chunk("b", 3, text)])
    assert [s.in_lede for s in candidate_sentences([Chunk("a", 0, text)])] == [True, True, False]
    assert not any(s.in_lede for s in later) and opening[0].in_lede
