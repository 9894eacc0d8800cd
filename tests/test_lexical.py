"""BM25 search: same ranking as bm25s's own retrieve, names and numbers kept whole."""

from __future__ import annotations

import json

import numpy as np
import pytest

from index.lexical import LexicalIndex, tokenize
from tests.conftest import WIKINEWS


def test_tokens_keep_percentages_and_tickers() -> None:
    assert tokenize("Over 85% of REMX holdings, said Greer") == ["85%", "remx", "hold", "said", "greer"]


@pytest.mark.skipif(not WIKINEWS.is_file(), reason="needs ../shared/corpora/wikinews (or BRIEFBOT_SHARED_DIR)")
def test_search_matches_bm25s_retrieve() -> None:
    texts = [json.loads(line)["body"] for line in WIKINEWS.read_text(encoding="utf-8").splitlines()[:200]]
    index = LexicalIndex.build(texts)
    for query in ["earthquake Indonesia tsunami", "election results president", "football world cup final"]:
        scores, ids = index.search(query, 10)
        want_ids, want_scores = index._model.retrieve([index.known_terms(query)], k=10, show_progress=False)
        keep = want_scores[0] > 0
        np.testing.assert_allclose(scores, want_scores[0][keep], rtol=1e-5)
        assert set(ids) == set(want_ids[0][keep]) or len(ids) == 10
    allowed = np.arange(0, 200, 3)
    _, ids = index.search("election results president", 10, allowed)
    assert set(ids) <= set(allowed)


def test_presence_comes_from_the_posting_lists_and_names_match_their_forms() -> None:
    """Issue 18: no stored text is tokenised at question time; a name is met by its other forms
    ("Hungary" by "Hungarian", "Austrian" by "Austria"), so the rare-name rule stops refusing them."""
    index = LexicalIndex.build(["Hungarian daily newspaper Magyar Nemzet revealed the deal with a firm in Austria.",
                                "The mortar maker was sold after lengthy negotiations.",
                                "Hungry travellers ate goulash."])
    ids = np.arange(3)
    [hungary] = tokenize("Hungary")
    [austrian] = tokenize("Austrian")
    assert index.passages_naming(hungary).tolist() == [0] and index.passages_naming(austrian).tolist() == [0]
    weights = {t: 1.0 for t in tokenize("mortar maker deal")}
    assert np.allclose(index.weighted_presence(weights, ids), [1 / 3, 2 / 3, 0.0])
    assert index.passages_with("nonexistent").size == 0


def test_a_people_names_its_place_where_the_stems_part() -> None:
    """Issue 18, paraphrases: "the Dutch researchers" is answered by a brief on the Netherlands, "the Canadian
    convention" by one in Canada (the stems part after "canad"), and a name with no such form stays unmet."""
    index = LexicalIndex.build(["Researchers in the Netherlands found that rats avoid hurting each other.",
                                "Canada hosted the fan convention in March.",
                                "Dutch ovens and Chinese lanterns were on sale."])
    naming = {word: index.passages_naming(tokenize(word)[0]).tolist() for word in ("Dutch", "Canadian", "China", "Swiss")}
    assert naming == {"Dutch": [0, 2], "Canadian": [1], "China": [2], "Swiss": []}
