"""Extractive answers: a short cited brief, the top passages each with its key sentence, and
numbered citations."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from index.brief import BriefWeights, Sentence, candidate_sentences, choose_brief, is_open_question, score_sentences
from index.chunk import is_heading, split_sentences
from index.records import Answer, BriefSentence, Citation, Hit, Passage

__all__ = ["build_answer", "answer_to_json", "BRIEF_PASSAGES", "CLOSEST_HEADING"]

# Above a refused question's nearest briefs (Answer.closest), in every rendering.
CLOSEST_HEADING = "Closest briefs (none answers it as asked)"

# The brief is drawn from the first three passages: the ones a reader sees without asking for more.
BRIEF_PASSAGES = 3


def build_answer(query: str, resolved_query: str, hits: Sequence[Hit], idf: Callable[[str], float], offset: int = 0,
                 notice: str | None = None, weights: BriefWeights = BriefWeights(), asked: str | None = None) -> Answer:
    """Rank the hits as passages, pick each one's key sentence and the brief, number the citations.

    `asked`: what the sentences answer when it is not all that was searched ("how many people died?", searched
    within the conversation's topic "Hurricane Ian", is answered by a death toll, not by the storm's name)."""
    citations: list[Citation] = []
    for hit in hits:
        if hit.citation not in citations:
            citations.append(hit.citation)
    sentences = candidate_sentences([h.chunk for h in hits], offset + 1)
    asked = asked or resolved_query
    scores = score_sentences(asked, sentences, idf, weights)
    passages = tuple(Passage(offset + i + 1, hit, _key_sentence(hit.chunk.text, offset + i + 1, sentences, scores))
                     for i, hit in enumerate(hits))
    near_top = [i for i, s in enumerate(sentences) if s.rank <= offset + BRIEF_PASSAGES]
    brief = (choose_brief([sentences[i] for i in near_top], scores[near_top], weights, is_open_question(asked))
             if near_top else [])
    return Answer(query=query, resolved_query=resolved_query, passages=passages, offset=offset, notice=notice,
                  citations=tuple(citations), brief=tuple(BriefSentence(s.text, s.rank) for s in brief))


def _key_sentence(text: str, rank: int, sentences: Sequence[Sentence], scores: np.ndarray) -> str:
    """The passage's best-scoring sentence; its first non-heading sentence when none qualifies."""
    own = [i for i, s in enumerate(sentences) if s.rank == rank]
    if own:
        return sentences[max(own, key=lambda i: scores[i])].text
    lines = split_sentences(text) or [text]
    return next((s for s in lines if not is_heading(s)), lines[0])


def answer_to_json(answer: Answer, request_id: object = None) -> dict[str, object]:
    """The `briefbot ask --json` shape."""
    return {
        "id": request_id,
        "query": answer.query,
        "resolved_query": answer.resolved_query,
        "no_answer": answer.no_answer,
        "sources_only": answer.sources_only,
        "notice": answer.notice,
        "brief": [{"text": s.text, "rank": s.rank} for s in answer.brief],
        "passages": [
            {"rank": p.rank, "text": p.hit.chunk.text, "highlight": p.highlight, "score": round(p.hit.score, 6),
             "chunk_id": p.hit.chunk_id, "citation": p.hit.citation.to_json()}
            for p in answer.passages
        ],
        # Every brief of the story, oldest first (index/timeline.py); "shown": among the ≤ 8 displayed.
        "timeline": [
            {"date": e.published_at.isoformat(), "text": e.text, "rank": e.rank, "citation": e.citation.to_json(),
             "shown": i in answer.timeline.shown}
            for i, e in enumerate(answer.timeline.entries)
        ] if answer.timeline else [],
        "closest": [{"chunk_id": h.chunk_id, "citation": h.citation.to_json()} for h in answer.closest],
    }
