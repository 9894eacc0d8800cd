"""The brief's sentence choice: one test per question type on short synthetic passages, and what
never enters a brief (headings, fragments, questions, near-copies)."""

from __future__ import annotations

from pathlib import Path

from index.brief import (SIGNALS, AnswerType, BriefWeights, answer_type, candidate_sentences, choose_brief, question_focus,
                         score_sentences, sentence_signals)
from index.conversation import Conversation
from index.embed import HashEmbedder
from index.engine import Engine
from index.records import Chunk
from tests.conftest import SAMPLE_TODAY, SAMPLES


def _idf(term: str) -> float:
    return 1.0


def _chunks(*texts: str) -> list[Chunk]:
    """Passages from the middle of their articles (no lede)."""
    return [Chunk(f"a{i}", 1, text) for i, text in enumerate(texts)]


def _best(question: str, passage: str) -> str:
    sentences = candidate_sentences(_chunks(passage))
    chosen = choose_brief(sentences, score_sentences(question, sentences, _idf))
    return chosen[0].text


def test_question_types_are_recognised() -> None:
    assert answer_type("Who led the House delegation to Beijing?") == AnswerType.PERSON
    assert answer_type("Which company bought the port operator?") == AnswerType.PERSON
    assert answer_type("How much of rare earth processing does China control?") == AnswerType.NUMBER
    assert answer_type("When did the Geneva talks take place?") == AnswerType.DATE
    assert answer_type("Where might Trump and Xi meet?") == AnswerType.PLACE
    assert answer_type("What did Jamieson Greer say on CNBC?") == AnswerType.QUOTE
    # The question word that comes first decides; "which <role>" asks for a name.
    assert answer_type("Who was the woman killed when the car drove into the crowd?") == AnswerType.PERSON
    assert answer_type("Which Polish minister ordered the checks?") == AnswerType.PERSON
    assert answer_type("What happened with Geneva?") == AnswerType.OTHER
    assert answer_type("Why did the building collapse?") == AnswerType.REASON


def test_the_focus_is_what_the_question_asks_about() -> None:
    assert question_focus("Which Polish minister ordered fire checks?") == ["polish", "minist"]
    assert question_focus("How many firefighters battled the blaze?") == ["firefight"]
    assert question_focus("What was the name of the dive boat that burned?") == ["dive", "boat"]
    assert question_focus("In which prison was he attacked?") == ["prison"]
    assert question_focus("What happened with Geneva?") == []


def test_the_sentence_that_meets_the_focus_answers_rather_than_the_lede_restating_the_question() -> None:
    passage = ("The roof of Notre Dame cathedral in Paris caught fire yesterday, and the blaze spread fast. "
               "Reportedly over 400 firefighters fought the blaze through the night.")
    chunk = Chunk("a", 0, passage)  # the first sentence is the lede
    sentences = candidate_sentences([chunk])
    chosen = choose_brief(sentences, score_sentences("How many firefighters battled the blaze in Paris?", sentences, _idf))
    assert "400 firefighters" in chosen[0].text


def test_signals_need_no_model() -> None:
    sentences = candidate_sentences(_chunks("Greer said the deal holds for now, officials in Geneva added."))
    rows = sentence_signals("What did Greer say about the deal?", sentences, _idf)
    assert rows.shape == (1, len(SIGNALS)) and rows[0, SIGNALS.index("answer_type")] == 1.0


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


def test_why_prefers_a_cause() -> None:
    """Seen on Wikinews: "Why did an apartment building collapse in Magnitogorsk?" opened on the collapse itself."""
    passage = ("An apartment building in Magnitogorsk collapsed on Monday and dozens of people died. "
               "The building in Magnitogorsk collapsed after a suspected gas leak led to an explosion.")
    assert "gas leak" in _best("Why did the apartment building in Magnitogorsk collapse?", passage)
    cause = "Investigators said there was probable cause to search the building in Magnitogorsk."
    assert "probable cause" not in _best("Why did the apartment building in Magnitogorsk collapse?",
                                         f"{cause} The collapse was due to a gas leak, officials said on Monday.")


def test_whats_new_opens_on_news_not_on_a_newsletters_greeting() -> None:
    """The news corpus's "What's new?" opened on "Hey, just making sure you've had some water today.", the greeting of
    CNN's "5 Things"; a greeting speaks to the reader, news tells of others (a quote may say "you")."""
    assert answer_type("What's new?") == answer_type("What's?") == AnswerType.NEWS
    assert answer_type("What's new on terbium?") == AnswerType.OTHER
    roundup = ("Hey, just making sure you've had some water today. "
               "Extreme heat is baking much of the country, and forecasters expect more records to fall this week.")
    assert _best("What's new?", roundup).startswith("Extreme heat")
    quoted = "“You will see prices fall,” the minister told reporters on Monday in Beijing. Prices rose again."
    assert _best("What's new?", quoted).startswith("“You will see")


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
    chosen = choose_brief(sentences, score_sentences("What happened with the Geneva accord?", sentences, _idf))
    chosen_texts = [c.text for c in chosen]
    assert 2 <= len(chosen) <= 4 and sum(len(t.split()) for t in chosen_texts) <= BriefWeights().max_words
    assert sum("widely seen as a step toward stabilizing" in t for t in chosen_texts) == 1  # no near-copy
    assert all(c.rank in (1, 2, 3) for c in chosen)


class _CountingEmbedder(HashEmbedder):
    """The fake embedder, recording every text it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts, *, batch_size: int = 32, show_progress: bool = False):  # type: ignore[no-untyped-def]
        self.texts.extend(texts)
        return super().embed(texts, batch_size=batch_size, show_progress=show_progress)


def test_asking_embeds_only_the_question(tmp_path: Path) -> None:
    """Issue 18: the brief embedded every candidate sentence and passage again, on every question."""
    embedder = _CountingEmbedder()
    engine = Engine(tmp_path / "data", embedder=embedder, today=lambda: SAMPLE_TODAY)
    engine.ingest([SAMPLES])
    for question in ("What did Jamieson Greer say on CNBC?", "What happened with Geneva?", "and terbium?"):
        embedder.texts.clear()
        answer = engine.converse(Conversation(), question)
        assert answer.brief, question
        # The question itself, and for a story question its subject ("Geneva"): no passage, no sentence.
        asked = set(question.lower().strip("?").split())
        assert 1 <= len(embedder.texts) <= 2 and all(set(t.lower().strip("?").split()) <= asked for t in embedder.texts), \
            embedder.texts
    # Asked again, the question's vector is remembered; forgotten, it is embedded again (bench/answer_speed.py).
    embedder.texts.clear()
    engine.ask("What happened with Geneva?")
    assert embedder.texts == []
    engine.retriever.embedder.forget()  # type: ignore[attr-defined]
    engine.ask("What happened with Geneva?")
    assert embedder.texts
