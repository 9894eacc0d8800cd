"""Misspelt words corrected to the corpus word they meant, and only those."""

from __future__ import annotations

from index.lexical import LexicalIndex
from index.speller import Speller

ENGLISH = frozenset("happened earth geneva magnet materials export licenses boom book search the".split())
CORPUS = LexicalIndex.build([
    "What happened at Geneva: rare earth magnets and export licenses.",
    "Geneva talks on rare earth materials and export licenses resumed.",
    "Rare earth magnets, materials and a book on Geneva.",
])


def test_a_typo_becomes_the_corpus_word_it_meant() -> None:
    speller = Speller(CORPUS, ENGLISH)
    assert speller.respell("What happend with Geneve?") == "What happened with Geneva?"
    assert speller.respell("rare eart magents") == "rare earth magnets"  # a letter dropped, two swapped
    assert speller.respell("Exprot liceses") == "Export licenses"


def test_right_words_unknown_names_and_rare_corrections_stay() -> None:
    speller = Speller(CORPUS, ENGLISH)
    assert speller.corrected("boom") is None  # an English word, though the corpus holds "book"
    assert speller.corrected("searchers") is None  # a "search" word, no typo of "searches"
    assert speller.corrected("Derna") is None  # an unknown name near no corpus word
    assert speller.corrected("magnets") is None  # the corpus holds it
    assert Speller(CORPUS, frozenset()).corrected("happend") is None  # no word list, no corrections


def test_a_question_most_of_whose_words_are_unknown_is_left_alone() -> None:
    """Thirty unknown words are no typos: correcting each cost 10 ms a refusal in the fuzzed updates."""
    speller = Speller(CORPUS, ENGLISH)
    assert speller.respell("happend eart") == "happened earth"
    assert speller.respell("happend eart magents") == "happend eart magents"


def test_a_misspelt_name_becomes_the_name_the_corpus_holds_and_a_lower_case_one_stays() -> None:
    """Names are no English words: "Khahsoggi" and "Bideen" were left as typed and the question refused."""
    corpus = LexicalIndex.build(["Khashoggi's fiancée spoke as Biden listened.", "Biden met the Khashoggi family.",
                                 "Lynas ships rare earths.", "Lynas and Biden."])
    speller = Speller(corpus, ENGLISH)
    assert speller.respell("What did Khahsoggi's fiancée and Bideen say?") == "What did Khashoggi's fiancée and Biden say?"
    assert speller.corrected("lynass") is None  # in lower case it may be any word: only English words are meant
    assert speller.respell("Did Lynass and the yolk ship?", names_only=True) == "Did Lynas and the yolk ship?"
