"""The brief's sentence choice: one test per question type on short synthetic passages, and what
never enters a brief (headings, fragments, near-copies)."""

from __future__ import annotations

import numpy as np

from index.brief import AnswerType, BriefWeights, answer_type, candidate_sentences, choose_brief, score_sentences


def _idf(term: str) -> float:
    return 1.0


def _best(question: str, passage: str) -> str:
    sentences = candidate_sentences([passage])
    similarity = np.zeros(len(sentences), np.float32)  # only the lexical and type signals decide here
    chosen = choose_brief(sentences, score_sentences(question, sentences, _idf, similarity))
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
                "Expedited export licences were promised in Geneva but never issued by Beijing."]
    sentences = candidate_sentences(passages)
    texts = [s.text for s in sentences]
    assert "Can Geneva Be Salvaged?" not in texts and "See more" not in texts
    similarity = np.linspace(0.9, 0.5, len(sentences)).astype(np.float32)
    chosen = choose_brief(sentences, score_sentences("What happened with the Geneva accord?", sentences, _idf, similarity))
    chosen_texts = [c.text for c in chosen]
    assert 2 <= len(chosen) <= 4 and sum(len(t.split()) for t in chosen_texts) <= BriefWeights().max_words
    assert sum("widely seen as a step toward stabilizing" in t for t in chosen_texts) == 1  # no near-copy
    assert all(c.rank in (1, 2, 3) for c in chosen)
