"""Hybrid retrieval: dense (FAISS) and BM25 scores fused linearly, a recency prior relative to the
as-of date, evidence summed per brief, a relevance gate, and no near-copies among the results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from index.embed import Embedder
from index.lexical import name_terms, top_k
from index.records import Chunk, Citation, Hit
from index.store import Snapshot

__all__ = ["Retriever", "RetrievalSettings", "Gate", "SearchFilter"]


@dataclass(frozen=True)
class Gate:
    """When a passage may be cited. Calibrated for zero refusals of answerable questions (news-QA
    development split, labelled sample questions, Wikinews titles) while refusing ≥ 95 % of
    off-corpus ones (tests/data/offcorpus_questions.jsonl and cross-corpus questions)."""

    # A passage that misses one of the question's rare names or places ("Nepal", "Derna") only
    # counts when its meaning matches this closely; so does any passage on its own.
    close_match: float = 0.60
    rare_name_idf: float = 3.5
    # A passage that names them all may word the rest otherwise: this similarity suffices (the brief "threads
    # rare earths alongside TikTok negotiations" answers "what were rare earths lumped together with?", 0.59).
    # Measured on paraphrased and off-corpus questions (docs/quality.md): 0.52 let an off-corpus one through.
    named_match: float = 0.55
    # A paraphrase ("Which firms did China favor?" for "…did for European semiconductor firms"):
    # this similarity and a fifth of the question's term weight.
    moderate_match: float = 0.50
    moderate_coverage: float = 0.2
    # Otherwise: all the question's terms present, or 55 % of their weight with this similarity
    # (0.50 let everyday questions through; 0.65 refused an answerable one: README, "Tuning").
    partial_coverage: float = 0.55
    partial_coverage_similarity: float = 0.35
    # Long, specific questions embed well: 8+ informative terms and this similarity suffice.
    long_question_terms: int = 8
    long_question_similarity: float = 0.45
    # A word the corpus never saw weighs the most in the coverage above; a common English word (not a name)
    # weighs this share of that (LexicalIndex.term_weights).
    common_unseen: float = 0.7

    def admits(self, similarity: float, coverage: float, missing_rare_name: bool, terms: int) -> bool:
        if similarity >= self.close_match:
            return True
        if missing_rare_name:
            return False
        if similarity >= self.named_match:
            return True
        if terms >= self.long_question_terms and similarity >= self.long_question_similarity:
            return True
        if similarity >= self.moderate_match and coverage >= self.moderate_coverage:
            return True
        if coverage >= 0.99:
            return True
        return coverage >= self.partial_coverage and similarity >= self.partial_coverage_similarity



@dataclass(frozen=True)
class RetrievalSettings:
    """Knobs of the ranking, each measured with `python bench/tune_retrieval.py` (README, "Tuning").

    Measured on the news-QA development split (83 dated questions, 1,187 articles), the labelled
    sample questions and the Wikinews titles together; the README shows the table around each value.
    """

    candidates: int = 100
    # Passage relevance = cosine + lexical_weight × BM25 / (the query's best BM25). Rank fusion (RRF)
    # was measured too: it compresses a clear winner's lead, so a recency prior strong enough for
    # news questions overturned exact title matches (Wikinews R@1 0.60–0.70 against 0.98 here).
    lexical_weight: float = 0.5
    # Recency prior: relevance × (1 + recency_boost × e^(−age / recency_days)), age counted from the
    # as-of date. Multiplicative, so a brief that does not answer gains little from being new and an
    # answering brief keeps its lead unless the fresh one is nearly as relevant.
    recency_boost: float = 0.75
    recency_days: float = 14.0
    # "latest", "recently", "news" with a subject: newer briefs weigh more, relevance still first. Age counts
    # from the newest brief about the subject (relevance within `latest_reference_share` of the best; a newer
    # roundup naming it in passing is not one) and a day weighs: at 14 days a brief from the day before kept
    # its lead (`python bench/latest.py --sweep`, int8 index: newest brief first 31 → 45 of 50, about the
    # subject 46 → 47; 1.5 days and shares 0.6–0.8 measure alike, 0.9 drops the newest brief to 35).
    latest_recency_boost: float = 1.5
    latest_recency_days: float = 3.0
    latest_reference_share: float = 0.7
    # News is written lede first: an article's opening passage states what happened, so it counts
    # this much more than the same relevance further down (score × (1 + lede_boost)).
    lede_boost: float = 0.1
    # A passage's score gains this share of its brief's next two best passages: a brief that answers
    # in several places outranks one lucky sentence.
    brief_evidence: float = 0.1
    # …counting only its passages whose cosine is at least this share of its best passage's. A roundup's
    # passages all carry its title ("5 things to know for August 4: Alex Jones, January 6, …"), so its item on
    # a suspension matched "lawsuits" and lifted its Alex Jones item over the article on the trial (int8 dev
    # R@1 0.867 → 0.880; 0.6–0.8 alike on every set, 0.9 costs the brief's first sentence a question).
    evidence_similarity: float = 0.7
    near_duplicate: float = 0.92
    companion_floor: float = 0.6
    # At most this many passages of one brief come before the others; its further passages follow
    # once the others are used up. At 2, the brief's third passage, the one that answered, was held
    # behind weaker briefs (answer in the top three passages 0.855 → 0.880 on the dev split at 3,
    # article recall unchanged on all three sets).
    passages_per_brief: int = 3
    modes: tuple[str, ...] = ("dense", "lexical")
    # A question in a conversation whose best passage is below this cosine is asked within the conversation's
    # topic ("how did the markets react?" after Liz Truss).
    topic_similarity: float = 0.5
    gate: Gate = Gate()
    # A refused question is shown the briefs nearest it from this cosine, as titles and not as an answer:
    # the refused paraphrases' own briefs came first at 0.37-0.42; half the off-corpus questions' nearest
    # passages are below 0.26 (docs/quality.md, "Paraphrases").
    closest_floor: float = 0.30
    # "Since X" counts from X's first report: the earliest brief about X within this share of the best one's
    # relevance, ranked without the recency prior. The best alone was often a later brief recalling X ("since
    # her sentencing" → the penal-colony transfer). Of 20 hand-dated events (bench/since_anchor.py) 0.95 places 17,
    # 0.9 16 (an earlier event gets in: the inquiry for "since the House impeached Trump"), 0.97 16; before, 13.
    first_report_share: float = 0.95
    # …among the passages holding this share of the event's term weight.
    first_report_naming: float = 0.5




@dataclass(frozen=True)
class SearchFilter:
    """Restrict a search by publication date and/or to some articles.

    `known_by` is the as-of date: briefs published later do not exist yet (undated ones do).
    """

    published_from: date | None = None
    published_to: date | None = None
    article_ids: tuple[str, ...] | None = None
    known_by: date | None = None

    def sql(self) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        if self.published_from:
            clauses.append("a.published_at >= ?")
            params.append(self.published_from.isoformat())
        if self.published_to:
            clauses.append("a.published_at <= ?")
            params.append(self.published_to.isoformat())
        if self.known_by:
            clauses.append("(a.published_at IS NULL OR a.published_at <= ?)")
            params.append(self.known_by.isoformat())
        if self.article_ids is not None:
            clauses.append(f"a.id IN ({','.join('?' * len(self.article_ids))})")
            params.extend(self.article_ids)
        return " AND ".join(clauses) or "1", params

    @property
    def active(self) -> bool:
        return bool(self.published_from or self.published_to or self.known_by or self.article_ids is not None)

    @property
    def window(self) -> bool:
        """True when the question itself narrowed the dates (not just the as-of date)."""
        return bool(self.published_from or self.published_to or self.article_ids is not None)


@dataclass(frozen=True)
class _Query:
    """What the gate needs to know about a question, computed once."""

    weights: dict[str, float]
    rare_names: frozenset[str]


@dataclass(frozen=True)
class _Pool:
    """A query's candidate passages: their ids, stored vectors, cosines to the query and BM25 relative to its best."""

    ids: np.ndarray
    vectors: np.ndarray
    dense: np.ndarray
    lexical: np.ndarray


class Retriever:
    """Ranks the chunks of one snapshot for a query."""

    def __init__(self, snapshot: Snapshot, embedder: Embedder, settings: RetrievalSettings | None = None) -> None:
        self.snapshot = snapshot
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()

    def search(self, query: str, k: int = 3, offset: int = 0, where: SearchFilter | None = None,
               today: date | None = None, latest: bool = False) -> list[Hit]:
        """The ranked, relevant, mutually distinct hits `offset … offset+k`, freshness counted from `today`.

        `latest` ("latest on terbium", "any news …"): newer briefs weigh more, and freshness is counted
        from the newest relevant brief, so "latest" still orders briefs that are all months old.
        """
        pool = self._pool(query, where, max(self.settings.candidates, 4 * (offset + k)))
        if pool is None:
            return []
        boost = self.settings.latest_recency_boost if latest else self.settings.recency_boost
        hits = self._score(self._describe(query), pool, today or date.today(), latest, boost)
        row_of = {chunk_id: row for row, chunk_id in enumerate(pool.ids.tolist())}
        return self._diverse(hits, pool.vectors[[row_of[h.chunk_id] for h in hits]], offset + k)[offset:]

    def first_report(self, event: str, subject: str = "", where: SearchFilter | None = None) -> Hit | None:
        """The earliest dated brief about as relevant to `event` (with its `subject`: "her sentencing", Griner's)
        as the best one, recency aside, that names the event: where "since X" starts (X's first report rather
        than the newest brief that recalls it; a brief on the subject alone reports no event)."""
        query = f"{subject} {event}".strip()
        pool = self._pool(query, where, self.settings.candidates)
        if pool is None:
            return None
        hits = self._score(self._describe(query), pool, date.today(), False, 0.0)
        named = dict(zip(pool.ids.tolist(), self.snapshot.lexical.weighted_presence(
            self.snapshot.lexical.term_weights(event), pool.ids).tolist()))
        hits = [h for h in hits if named[h.chunk_id] >= self.settings.first_report_naming]
        floor = self.settings.first_report_share * hits[0].score if hits else 0.0
        near = [h for h in hits if h.score >= floor and h.citation.published_at]
        return min(near, key=lambda h: (h.citation.published_at, -h.score), default=None)

    def closest(self, query: str, n: int = 3, where: SearchFilter | None = None) -> list[Hit]:
        """The best passage of each of the `n` briefs nearest a question the gate refused, ungated, by the
        same relevance the ranking uses; none below `closest_floor` in meaning."""
        s = self.settings
        pool = self._pool(query, where, s.candidates)
        if pool is None:
            return []
        ids, dense, lexical = pool.ids, pool.dense, pool.lexical
        relevance = self._relevance(dense, lexical)
        # A brief's passages crowd the top, but not tenfold: n briefs are among the first 10 n passages.
        near = [i for i in np.argsort(-relevance, kind="stable") if dense[i] >= s.closest_floor][: 10 * n]
        rows = self.snapshot.chunks([int(ids[i]) for i in near])
        hits: dict[str, Hit] = {}
        for i in near:
            chunk, citation = rows[int(ids[i])]
            if citation.article_id not in hits:
                hits[citation.article_id] = Hit(int(ids[i]), chunk, citation, float(relevance[i]), float(dense[i]),
                                                float(lexical[i]))
                if len(hits) == n:
                    break
        return list(hits.values())

    def _pool(self, query: str, where: SearchFilter | None, n: int) -> _Pool | None:
        """The query embedded once and its candidates gathered (None when the filter admits no passage)."""
        allowed = self._allowed(where)
        if allowed is not None and not len(allowed):
            return None
        vector = self.embedder.embed([query])[0]
        ids, vectors, lexical = self._candidates(query, vector, allowed, n)
        return _Pool(ids, vectors, vectors @ vector, lexical)

    def _allowed(self, where: SearchFilter | None) -> np.ndarray | None:
        """The chunk ids a filter admits (None: all)."""
        return self.snapshot.chunk_ids(*where.sql()) if where and where.active else None

    def _relevance(self, dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        """Passage relevance before the priors: cosine + lexical_weight × the BM25 share (RetrievalSettings)."""
        return dense * ("dense" in self.settings.modes) + self.settings.lexical_weight * lexical

    def _candidates(self, query: str, vector: np.ndarray, allowed: np.ndarray | None,
                    n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Union of the dense and BM25 top-n: ids, their vectors, and BM25 scores relative to the best."""
        s = self.settings
        pools = []
        bm25 = self.snapshot.lexical.scores(query, allowed) if "lexical" in s.modes else None
        if "dense" in s.modes:
            pools.append(self.snapshot.vectors.search(vector, n, allowed)[1])
        if bm25 is not None:
            pools.append(top_k(bm25, n)[1])
        ids = np.unique(np.concatenate(pools)) if pools else np.empty(0, np.int64)
        ids = ids[ids >= 0]
        vectors = self.snapshot.vectors.vectors(ids) if len(ids) else np.empty((0, len(vector)), np.float32)
        best = float(bm25.max()) if bm25 is not None and len(bm25) else 0.0
        lexical = bm25[ids] / best if bm25 is not None and best > 0 else np.zeros(len(ids), np.float32)
        return ids, vectors, lexical

    def _describe(self, query: str) -> _Query:
        gate = self.settings.gate
        weights = self.snapshot.lexical.term_weights(query, gate.common_unseen)
        rare = frozenset(t for t in name_terms(query) if weights.get(t, gate.rare_name_idf) >= gate.rare_name_idf)
        return _Query(weights, rare)

    def _score(self, query: _Query, pool: _Pool, today: date, latest: bool, boost: float) -> list[Hit]:
        s = self.settings
        ids, dense, lexical = pool.ids, pool.dense, pool.lexical
        rows = self.snapshot.chunks([int(i) for i in ids])
        # A passage is read with its brief's title ("Kalgoorlie" in the title covers its passages), which is
        # what its BM25 document holds: presence comes from the posting lists, nothing is tokenised again.
        lexicon = self.snapshot.lexical
        coverage = lexicon.weighted_presence(query.weights, ids)
        # Each rare name must be named, in any of its forms ("Hungary" by "Hungarian", "Dutch" by "Netherlands").
        named = [lexicon.naming(name, ids) for name in query.rare_names]
        admitted: list[bool] = []
        for row, similarity in enumerate(dense.tolist()):
            missing_name = not all(holds[row] for holds in named)
            admitted.append(s.gate.admits(similarity, float(coverage[row]), missing_name, len(query.weights)))
        relevance: list[float] = self._relevance(dense, lexical).tolist()
        if not any(admitted):
            return []
        # Once one passage answers, passages nearly as relevant may follow it though the gate alone
        # would drop them (the answer is often phrased differently from the question).
        floor = s.companion_floor * max(r for r, ok in zip(relevance, admitted) if ok)
        relevant = [(r, i) for r, ok, i in zip(relevance, admitted, ids.tolist()) if ok or r >= floor]
        reference = self._newest_about(relevant, rows, today) if latest else today
        days = s.latest_recency_days if latest else s.recency_days
        fresh = {i: _freshness(d, reference, days) for _, i in relevant if (d := rows[i][1].published_at)}
        # An undated brief is neither favoured nor punished: it counts as fresh as the dated ones around it.
        undated = float(np.mean(list(fresh.values()))) if fresh else 0.0
        scored = [(r * (1 + boost * fresh.get(i, undated)) * (1 + s.lede_boost * (rows[i][0].position == 0)), i)
                  for r, i in relevant]
        evidence = {i: (d, lx) for i, d, lx in zip(ids.tolist(), dense.tolist(), lexical.tolist())}
        return self._with_brief_evidence(scored, rows, evidence)

    def _newest_about(self, relevant: list[tuple[float, int]], rows: dict[int, tuple[Chunk, Citation]],
                      today: date) -> date:
        """The newest day among the briefs about the subject: relevance within `latest_reference_share` of the best."""
        top = max(r for r, _ in relevant) * self.settings.latest_reference_share
        dates = [d for r, i in relevant if r >= top and (d := rows[i][1].published_at) and d <= today]
        return max(dates, default=today)

    def _with_brief_evidence(self, scored: list[tuple[float, int]], rows: dict[int, tuple[Chunk, Citation]],
                             evidence: dict[int, tuple[float, float]]) -> list[Hit]:
        """Add `brief_evidence` × the brief's next two best passages to each passage's score (those near its best
        passage in meaning: `evidence_similarity`)."""
        best: dict[str, float] = {}
        for _, chunk_id in scored:
            article = rows[chunk_id][1].article_id
            best[article] = max(best.get(article, -1.0), evidence[chunk_id][0])
        by_article: dict[str, list[tuple[float, int]]] = {}
        for score, chunk_id in sorted(scored, reverse=True):
            article = rows[chunk_id][1].article_id
            if evidence[chunk_id][0] >= self.settings.evidence_similarity * best[article]:
                by_article.setdefault(article, []).append((score, chunk_id))
        hits = []
        for score, chunk_id in scored:
            chunk, citation = rows[chunk_id]
            others = [s for s, other in by_article.get(citation.article_id, []) if other != chunk_id]
            total = score + self.settings.brief_evidence * sum(others[:2])
            hits.append(Hit(chunk_id, chunk, citation, total, *evidence[chunk_id]))
        return sorted(hits, key=lambda h: (-h.score, h.chunk_id))

    def _diverse(self, hits: list[Hit], vectors: np.ndarray, limit: int) -> list[Hit]:
        """Greedy pick skipping near-copies of a picked passage (syndicated or re-posted text); a brief's
        passages beyond `passages_per_brief` wait until every other brief has had its turn.

        `vectors[i]` is `hits[i]`'s vector, reused from the candidate search rather than read again."""
        picked: list[int] = []
        held: list[int] = []
        per_brief: dict[str, int] = {}
        for i, hit in enumerate(hits):
            if picked and float(np.max(vectors[picked] @ vectors[i])) >= self.settings.near_duplicate:
                continue
            brief = hit.citation.article_id
            if per_brief.get(brief, 0) >= self.settings.passages_per_brief:
                held.append(i)
                continue
            per_brief[brief] = per_brief.get(brief, 0) + 1
            picked.append(i)
            if len(picked) == limit:
                break
        return [hits[i] for i in (picked + held)[:limit]]


def _freshness(published: date, today: date, days: float) -> float:
    """e^(−age/days): 1 for a brief published today, ~0.5 after 10 days at the default 14."""
    return float(np.exp(-max(0, (today - published).days) / days))
