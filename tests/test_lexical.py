"""BM25 search: the same scores as bm25s (the reference), its files read both ways, names and numbers kept whole."""

from __future__ import annotations

import json
from pathlib import Path

import bm25s
import numpy as np
import pytest

from index.lexical import LEXICAL_DIR, UNITED_STATES, LexicalIndex, name_terms, tokenize
from tests.conftest import WIKINEWS


def test_tokens_keep_percentages_and_tickers() -> None:
    assert tokenize("Over 85% of REMX holdings, said Greer") == ["85%", "remx", "hold", "said", "greer"]


@pytest.mark.skipif(not WIKINEWS.is_file(), reason="needs ../shared/corpora/wikinews (or BRIEFBOT_SHARED_DIR)")
def test_search_matches_bm25s_retrieve() -> None:
    texts = [json.loads(line)["body"] for line in WIKINEWS.read_text(encoding="utf-8").splitlines()[:200]]
    index = LexicalIndex.build(texts)
    reference = _bm25s(texts)
    for query in ["earthquake Indonesia tsunami", "election results president", "football world cup final"]:
        scores, ids = index.search(query, 10)
        want_ids, want_scores = reference.retrieve([index.known_terms(query)], k=10, show_progress=False)
        keep = want_scores[0] > 0
        np.testing.assert_allclose(scores, want_scores[0][keep], rtol=1e-5)
        assert set(ids) == set(want_ids[0][keep]) or len(ids) == 10
    allowed = np.arange(0, 200, 3)
    _, ids = index.search("election results president", 10, allowed)
    assert set(ids) <= set(allowed)


def test_the_files_are_bm25s_files_both_ways(tmp_path: Path) -> None:
    """An index folder written by bm25s (every index before 2026-12-06) loads and scores the same, and ours loads in bm25s."""
    texts = ["Rare earth magnets from China.", "Lynas ships heavy rare earths to the U.S.", "the of and", "Magnets, magnets, magnets."]
    ours = LexicalIndex.build(texts)
    _bm25s(texts).save(str(tmp_path / "theirs" / LEXICAL_DIR))
    ours.save(tmp_path / "ours")
    loaded = LexicalIndex.load(tmp_path / "theirs", len(texts))
    for query in ["rare earth magnets", "Lynas", "nothing known"]:
        np.testing.assert_allclose(loaded.scores(query), ours.scores(query), rtol=1e-6)
        np.testing.assert_allclose(LexicalIndex.load(tmp_path / "ours", len(texts)).scores(query), ours.scores(query))
    back = bm25s.BM25.load(str(tmp_path / "ours" / LEXICAL_DIR))
    np.testing.assert_allclose(back.get_scores(tokenize("rare earth magnets")), ours.scores("rare earth magnets"), rtol=1e-6)
    assert ours.scores("magnets")[3] > ours.scores("magnets")[0] > 0 and not ours.scores("magnets")[2]


def _bm25s(texts: list[str]) -> bm25s.BM25:
    """bm25s over the same terms, with its placeholder for a passage of stop words only."""
    reference = bm25s.BM25()
    reference.index([tokenize(t) or ["\x00"] for t in texts], show_progress=False)
    return reference


def test_the_united_states_in_any_form_is_one_term_the_gate_reads() -> None:
    """"U.S." holds no word and "US" is the pronoun "us": a passage naming the country in any form holds one
    more term, which questions naming it weigh and BM25 never scores (the reference test above)."""
    index = LexicalIndex.build(["The U.S. and China met.", "American magnet makers wait.", "US officials said so.",
                                "Latin America exports copper.", "Tell us more about China."])
    ids = np.arange(5)
    assert index.weighted_presence({UNITED_STATES: 1.0}, ids).tolist() == [1, 1, 1, 0, 0]
    for question in ("What did the US agree to?", "What did the U.S. agree to?", "What do Americans want?"):
        assert UNITED_STATES in index.term_weights(question) and UNITED_STATES in name_terms(question), question
    assert "us" not in index.term_weights("What did the US agree to?")
    assert UNITED_STATES not in index.term_weights("Tell us about South America")
    assert not index.scores(UNITED_STATES).any()


def test_a_word_no_passage_holds_is_held_by_its_synonyms() -> None:
    """"quarrel" is met by "dispute" and "settled" by "resolved" while no passage holds the word itself; a word
    the corpus has keeps to its own forms (synonyms of common words let everyday questions through)."""
    index = LexicalIndex.build(["China and the U.S. dispute the quotas.", "The talks resolved nothing.", "Tariffs rose."])
    weights = index.term_weights("Was the quarrel settled?")
    np.testing.assert_allclose(index.weighted_presence(weights, np.arange(3)), [0.5, 0.5, 0.0])
    assert index.family(tokenize("disputes")[0]) == ["disput"]
    assert not index.family(tokenize("pickleball")[0])


def test_presence_comes_from_the_posting_lists_and_names_match_their_forms() -> None:
    """Issue 18: no stored text is tokenised at question time; a name is met by its other forms
    ("Hungary" by "Hungarian", "Austrian" by "Austria"), so the rare-name rule stops refusing them."""
    index = LexicalIndex.build(["Hungarian daily newspaper Magyar Nemzet revealed the deal with a firm in Austria.",
                                "The mortar maker was sold after lengthy negotiations.",
                                "Hungry travellers ate goulash."])
    ids = np.arange(3)
    [hungary] = tokenize("Hungary")
    [austrian] = tokenize("Austrian")
    assert index.naming(hungary, ids).tolist() == [True, False, False] == index.naming(austrian, ids).tolist()
    weights = {t: 1.0 for t in tokenize("mortar maker deal")}
    assert np.allclose(index.weighted_presence(weights, ids), [1 / 3, 2 / 3, 0.0])
    assert index.passages_with("nonexistent").size == 0


def test_a_people_names_its_place_where_the_stems_part() -> None:
    """Issue 18, paraphrases: "the Dutch researchers" is answered by a brief on the Netherlands, "the Canadian
    convention" by one in Canada (the stems part after "canad"), and a name with no such form stays unmet."""
    index = LexicalIndex.build(["Researchers in the Netherlands found that rats avoid hurting each other.",
                                "Canada hosted the fan convention in March.",
                                "Dutch ovens and Chinese lanterns were on sale."])
    naming = {word: np.flatnonzero(index.naming(tokenize(word)[0], np.arange(3))).tolist()
              for word in ("Dutch", "Canadian", "China", "Swiss")}
    assert naming == {"Dutch": [0, 2], "Canadian": [1], "China": [2], "Swiss": []}


def test_an_empty_index_and_a_passage_of_stop_words_score_nothing(tmp_path: Path) -> None:
    """The placeholder document of an emptied index is never a result; a stop-word passage stays unmatched."""
    for texts in ([], ["the of and", "Lynas ships heavy rare earths."]):
        index = LexicalIndex.build(texts)
        index.save(tmp_path / str(len(texts)))
        loaded = LexicalIndex.load(tmp_path / str(len(texts)), len(texts))
        assert loaded.scores("Lynas rare earths").shape == (len(texts),)
        assert [int(i) for i in loaded.search("Lynas rare earths", 5)[1]] == ([1] if texts else [])


def test_a_request_or_framing_word_that_opens_a_question_is_no_name() -> None:
    """"Summarize the Geneva talks": a passage had to contain "Summarize" to be cited."""
    assert name_terms("Summarize the Geneva talks") == {"geneva"}
    assert name_terms("Brief me on Lynas, please") == {"lyna"}
    assert name_terms("Summary of the Geneva talks?") == {"geneva"}


def test_british_and_american_spellings_are_one_term() -> None:
    """A brief on "export licences" answers "export licenses"; "defence" finds "defense" (Wikinews spells both)."""
    for british, american in (("export licences", "export licenses"), ("defence ministry", "defense ministry"),
                              ("the organisation", "the organization"), ("criticised", "criticized"),
                              ("aluminium", "aluminum"), ("labour", "labor"), ("travelled", "traveled")):
        assert tokenize(british) == tokenize(american), british
    # words whose British stem names something else keep it
    assert tokenize("tonnes") != tokenize("tons") and tokenize("Grey") != tokenize("gray")
    assert tokenize("calibration") != tokenize("caliber")
    index = LexicalIndex.build(["China delayed rare earth export licenses for months.", "The mine opened in May."])
    scores, ids = index.search("export licences", 2)
    assert ids.tolist() == [0]


def test_a_word_is_held_by_its_other_forms_in_the_gate_not_in_bm25() -> None:
    """"Who led the delegation?" is answered by "leading the delegation", "Why did the truce fail?" by "China's
    failure", "What did China agree to?" by "the agreement"; a plan is no plant and Changi is no change."""
    index = LexicalIndex.build(["Adam Smith, leading the first House delegation, came home.",
                                "China's failure to deliver stalled the agreement.",
                                "The plant at Changi airport."])
    ids = np.arange(3)

    def held_by(question: str) -> list[int]:
        weights = {t: 1.0 for t in tokenize(question)}
        return np.flatnonzero(index.weighted_presence(weights, ids) == 1.0).tolist()

    assert held_by("led") == [0] and held_by("fail") == [1] and held_by("agreed") == [1]
    assert held_by("allied leaders") == [] and held_by("plan") == [] and held_by("change") == []
    assert index.family(tokenize("failed")[0]) == tokenize("failure")  # only forms the passages hold
    assert index.scores("fail led").tolist() == [0.0, 0.0, 0.0]  # BM25 scores the words as written


def test_a_common_word_the_corpus_lacks_weighs_less_than_a_name_or_rare_word() -> None:
    """A corpus of a few briefs lacks most everyday words: "reacting" weighs `common_unseen` of an unseen
    term, while "pickleball" (no English word) and "Wakanda" (a name) keep the whole weight."""
    index = LexicalIndex.build(["Defense contractors are reassessing their procurement.", "Rare earth prices rose."])
    [pickleball] = tokenize("pickleball")
    unseen = index.term_weights("pickleball")[pickleball]
    weights = index.term_weights("How are defense contractors reacting to pickleball in Wakanda?", common_unseen=0.5)
    assert weights["react"] == 0.5 * unseen and weights[pickleball] == unseen == weights["wakanda"]
    assert weights["contractor"] == index.idf("contractor") > 0
    assert index.term_weights("How are defense contractors reacting?")["react"] == unseen  # the default: no discount
