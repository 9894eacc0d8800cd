"""Extractive answers: the top passages, each with its key sentence, and numbered citations."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from index.chunk import split_sentences
from index.lexical import tokenize
from index.records import Answer, Citation, Hit, Passage

__all__ = ["build_answer", "key_sentence", "answer_to_json"]

_SPEECH = re.compile(r"\b(say|says|said|saying|quote|quoted|claim|claimed|stated|tell|told|admit|admitted)\b", re.I)
_QUOTE = re.compile(r"[“\"]")


def key_sentence(text: str, query: str, idf: Callable[[str], float]) -> str:
    """The sentence sharing the most (IDF-weighted) terms with the query; quotes win for "what did X say"."""
    sentences = split_sentences(text) or [text]
    terms = set(tokenize(query))
    wants_quote = bool(_SPEECH.search(query))

    def score(indexed: tuple[int, str]) -> tuple[float, int]:
        position, sentence = indexed
        value = sum(idf(t) for t in terms & set(tokenize(sentence)))
        if wants_quote and _QUOTE.search(sentence):
            value += 1.0
        return value, -position

    # Section headings ("Can Geneva Be Salvaged?") match questions well but say nothing.
    candidates = [(i, t) for i, t in enumerate(sentences) if not _is_heading(t)] or list(enumerate(sentences))
    return max(candidates, key=score)[1]


def _is_heading(sentence: str) -> bool:
    """Short Title Case lines are section headings, not statements."""
    words = sentence.split()
    capitalised = sum(1 for w in words if w[:1].isupper() or not w[:1].isalpha())
    return len(words) <= 12 and capitalised >= 0.7 * len(words)


def build_answer(query: str, resolved_query: str, hits: Sequence[Hit], idf: Callable[[str], float],
                 offset: int = 0, notice: str | None = None) -> Answer:
    """Rank the hits as passages and number their articles as citations, in order of first use."""
    citations: list[Citation] = []
    for hit in hits:
        if hit.citation not in citations:
            citations.append(hit.citation)
    passages = tuple(
        Passage(rank=offset + i + 1, hit=hit, highlight=key_sentence(hit.chunk.text, resolved_query, idf))
        for i, hit in enumerate(hits))
    return Answer(query=query, resolved_query=resolved_query, passages=passages, offset=offset,
                  notice=notice, citations=tuple(citations))


def answer_to_json(answer: Answer, request_id: object = None) -> dict[str, object]:
    """The `briefbot ask --json` shape."""
    return {
        "id": request_id,
        "query": answer.query,
        "resolved_query": answer.resolved_query,
        "no_answer": answer.no_answer,
        "notice": answer.notice,
        "passages": [
            {"rank": p.rank, "text": p.hit.chunk.text, "highlight": p.highlight, "score": round(p.hit.score, 6),
             "chunk_id": p.hit.chunk_id, "citation": p.hit.citation.to_json()}
            for p in answer.passages
        ],
    }
