"""Chunking: whole sentences, model-sized passages, headings kept with their text."""

from __future__ import annotations

from index.chunk import MAX_WORDS, chunk_article, split_sentences
from index.parse import parse_file
from index.records import Article
from tests.conftest import SAMPLES


def test_split_sentences_keeps_abbreviations_and_quotes() -> None:
    text = "The U.S. Trade Representative spoke. “It was more handshake than contract,” says Mr. Smith. Prices rose 85%."
    assert split_sentences(text) == [
        "The U.S. Trade Representative spoke.",
        "“It was more handshake than contract,” says Mr. Smith.",
        "Prices rose 85%.",
    ]


def test_bullet_lines_are_sentences() -> None:
    assert split_sentences("• First point\n• Second point") == ["• First point", "• Second point"]


def test_sample_chunks_fit_the_model_and_end_on_sentences() -> None:
    for path in sorted(SAMPLES.glob("*.txt")):
        article = parse_file(path).articles[0]
        chunks = chunk_article(article)
        assert len(chunks) >= 3
        assert [c.position for c in chunks] == list(range(len(chunks)))
        for chunk in chunks:
            assert chunk.article_id == article.id
            assert len(chunk.text.split()) <= MAX_WORDS
            assert chunk.text.rstrip().endswith((".", "?", "!", "”", '"', "…")), chunk.text[-80:]
        # Every sentence of the article survives chunking exactly once.
        joined = " ".join(c.text.replace("\n", " ") for c in chunks).split()
        assert joined == article.full_text.replace("\n", " ").split()


def test_heading_stays_with_following_paragraph() -> None:
    body = "\n\n".join([" ".join(["Filler sentence number one is here."] * 20), "A Heading Without Stop",
                        "The paragraph the heading introduces."])
    chunks = chunk_article(Article(id="a", title="T", body=body))
    assert not any(c.text.endswith("A Heading Without Stop") for c in chunks)
    assert any("A Heading Without Stop\nThe paragraph" in c.text for c in chunks)


def test_a_gigantic_sentence_is_cut_at_word_boundaries() -> None:
    chunks = chunk_article(Article(id="a", title="T", body="word " * 1000))
    assert all(len(c.text.split()) <= MAX_WORDS for c in chunks)
    assert sum(len(c.text.split()) for c in chunks) == 1000


def test_bullets_keep_their_own_lines() -> None:
    body = "Questions remain:\n• Did negotiators overestimate China?\n• Were the terms too vague?"
    assert chunk_article(Article(id="a", title="T", body=body))[0].text.splitlines() == [
        "Questions remain:", "• Did negotiators overestimate China?", "• Were the terms too vague?"]
