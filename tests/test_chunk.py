"""Chunking: whole sentences, model-sized passages, headings kept with their text."""

from __future__ import annotations

from index.chunk import MAX_WORDS, TAIL_WORDS, chunk_article, is_heading, split_sentences
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


def test_geneva_chunks_start_at_their_sections_not_at_the_end_of_the_one_before() -> None:
    article = parse_file(SAMPLES / "000_cf58dd7b26a1b221.txt").articles[0]
    chunks = [c.text.splitlines() for c in chunk_article(article)]
    assert any(lines[0] == "Can Geneva Be Salvaged?" for lines in chunks)
    for lines in chunks[1:]:
        before = next((i for i, line in enumerate(lines) if is_heading(line)), None)
        if before:  # a chunk that starts mid-section runs on for a while before it meets the next heading
            assert len(" ".join(lines[:before]).split()) >= TAIL_WORDS, lines[: before + 1]


def test_a_short_section_tail_goes_back_to_the_chunk_before_the_heading() -> None:
    long_paragraph = " ".join(f"Sentence {n} of the first section carries some words." for n in range(20))
    body = "\n\n".join(["First Section", long_paragraph, "Second Section", "The second section's only sentence."])
    chunks = [c.text for c in chunk_article(Article(id="a", title="T", body=body))]
    assert [c.splitlines()[0] for c in chunks][-1] == "Second Section"
    assert all(len(c.split()) <= MAX_WORDS for c in chunks)
    assert chunks[0].startswith("First Section") and len(chunks) == 3  # the overflow split evenly, not 170 + 10


def test_a_long_list_of_short_title_lines_packs_into_full_chunks() -> None:
    body = "\n\n".join(line for n in range(60) for line in (f"{n}. State Number {n}", f"• Net funding: ${n},000 per resident"))
    chunks = chunk_article(Article(id="a", title="T", body=body))
    sizes = [len(c.text.split()) for c in chunks]
    assert all(size >= 100 for size in sizes[:-1]) and sum(sizes) == len(body.split())


def test_the_last_few_sentences_of_an_article_do_not_make_a_chunk_of_their_own() -> None:
    body = "\n\n".join([" ".join(["A full sentence of the story goes here."] * 20), "Stay tuned for more."])
    chunks = chunk_article(Article(id="a", title="T", body=body))
    assert min(len(c.text.split()) for c in chunks) >= TAIL_WORDS
