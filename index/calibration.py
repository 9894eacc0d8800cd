"""A generated retrieval set for the int8 gate and NNCF's calibration: ships with the code, needs no data.

Each passage is a ~110-word news item about one (actor, subject, place) triple; its question names the
triple in other words, and the other passages about the same actor, subject or place are the
distractors. Deterministic for a seed; the gate and the quantiser use disjoint seeds.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import numpy as np

__all__ = ["RetrievalSet", "generated_retrieval_set", "RetrievalScores", "retrieval_scores"]

# (as a passage names it, as a question might): questions paraphrase, so the right passage wins on meaning.
_ACTORS = [("The commerce ministry", "the trade department"), ("A Senate committee", "lawmakers"),
           ("Lynas Rare Earths", "the Australian miner"), ("The port authority", "harbour officials"),
           ("Farmers' unions", "growers"), ("The central bank", "monetary policy makers"),
           ("A wildfire crew", "firefighters"), ("The city council", "municipal leaders"), ("Toyota", "the carmaker"),
           ("Striking dock workers", "longshoremen on strike"), ("The health agency", "public health officials"),
           ("A consortium of miners", "mining companies"), ("The football federation", "soccer's governing body"),
           ("Researchers at the university", "academic scientists"), ("The election commission", "vote organisers"),
           ("An oil refinery", "a petroleum plant"), ("The navy", "naval commanders"), ("A teachers' union", "educators"),
           ("The airline regulator", "aviation authorities"), ("Solar panel makers", "photovoltaic manufacturers"),
           ("The water utility", "the local water company"), ("A chip foundry", "a semiconductor plant"),
           ("The tourism board", "travel promoters"), ("Fishing cooperatives", "fishermen")]
_SUBJECTS = [("magnet exports", "shipping magnets abroad"), ("grain prices", "the cost of cereals"),
             ("hospital waiting times", "delays for patients"), ("flood defences", "protection against high water"),
             ("vaccine supplies", "stocks of immunisations"), ("youth unemployment", "young people without jobs"),
             ("battery recycling", "reusing old cells"), ("tuition fees", "what students pay"),
             ("wheat harvests", "the crop yield"), ("airline safety", "how safe flying is"),
             ("terbium refining", "processing heavy rare earths"), ("water rationing", "limits on tap water"),
             ("ticket sales", "box office demand"), ("copper smelting", "metal furnaces"),
             ("rail freight", "cargo trains"), ("housing permits", "approvals for new homes"),
             ("pension reform", "changes to retirement pay"), ("cobalt mining", "extracting battery metals"),
             ("fuel subsidies", "cheap petrol support"), ("coral reef damage", "harm to marine reefs")]
_PLACES = [("Malaysia", "Kuala Lumpur"), ("Geneva", "Switzerland"), ("Queensland", "northern Australia"),
           ("Ontario", "Canada"), ("Chile", "the Andes"), ("Kenya", "East Africa"), ("Norway", "Scandinavia"),
           ("Vietnam", "Hanoi"), ("Texas", "the US south"), ("Bavaria", "Munich"), ("Peru", "Lima"),
           ("the Philippines", "Manila"), ("Morocco", "North Africa"), ("Kazakhstan", "Central Asia"),
           ("Scotland", "Edinburgh"), ("Brazil", "South America"), ("Indonesia", "Jakarta"), ("Poland", "Warsaw"),
           ("South Korea", "Seoul"), ("Greenland", "the Arctic")]
_ACTIONS = [("announced new limits on", "What limits did {a} put on {s} in {p}?"),
            ("reported a sharp rise in", "Did {a} see {s} go up in {p}?"),
            ("filed a lawsuit over", "Why is {a} suing over {s} in {p}?"),
            ("signed a deal covering", "What agreement did {a} sign on {s} in {p}?"),
            ("delayed a decision on", "Why was the decision by {a} on {s} in {p} postponed?"),
            ("warned investors about", "What warning did {a} give about {s} in {p}?"),
            ("cut its forecast for", "How far did {a} lower expectations for {s} in {p}?"),
            ("opened an inquiry into", "What is {a} investigating about {s} in {p}?")]
_DETAILS = ["The change affects about {n} thousand people and takes effect in {month}.",
            "Figures released on {day} showed a {n} percent shift compared with last year.",
            "The plan is expected to cost {n} million dollars over the next {k} years.",
            "Local officials said {n} sites had been inspected since {month}.",
            "A report published in {month} put the number of affected households at {n} thousand.",
            "Shares of listed suppliers moved {n} percent in early trading after the statement.",
            "The measure was approved by a vote of {n} to {k} after a debate that lasted into the night.",
            "Independent auditors counted {n} complaints in the first {k} weeks."]
_QUOTES = ["\u201cWe cannot wait any longer,\u201d a spokesperson said.", "Critics called the move rushed and poorly explained.",
           "Industry groups welcomed the news but asked for more detail.", "Opposition lawmakers demanded a public hearing.",
           "\u201cThis is a first step, not the last one,\u201d the chair told reporters.",
           "Residents interviewed on {day} said they had heard little about it.",
           "Economists were divided on whether the effect would last beyond {month}.",
           "Environmental campaigners said the decision ignored earlier warnings."]
_OUTLOOKS = ["A final ruling is due before the end of {month}.", "Further talks are planned for {day}.",
             "Analysts expect prices to stay volatile for months.", "The next review will take place in {k} years.",
             "Officials said more details would be published in {month}.",
             "A court challenge is widely expected before the summer.",
             "Neighbouring regions are watching the outcome closely.",
             "The agency will report back to parliament within {k} months."]
_MONTHS = ["January", "March", "May", "July", "September", "November"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


@dataclass(frozen=True)
class RetrievalSet:
    """Questions and passages; question i's only right answer is passage i."""

    passages: tuple[str, ...]
    questions: tuple[str, ...]


def generated_retrieval_set(n: int, seed: int = 20) -> RetrievalSet:
    """`n` passages (each a distinct actor/subject/place triple) and one question per passage."""
    rng = random.Random(seed)
    triples = list(itertools.product(_ACTORS, _SUBJECTS, _PLACES))
    rng.shuffle(triples)
    passages, questions = [], []
    for (actor, who), (subject, what), (place, where) in triples[:n]:
        action, question = rng.choice(_ACTIONS)
        fill = {"n": rng.randint(2, 95), "k": rng.randint(2, 9), "month": rng.choice(_MONTHS), "day": rng.choice(_DAYS)}
        # Three of each kind: ~110 words, as long as a real passage (chunks aim at ~120 words), so NNCF's
        # activation ranges and the gate see realistic lengths.
        sentences = [f"{actor} {action} {subject} in {place} {rng.choice(['on Monday', 'last week', 'this month'])}.",
                     *(t.format(**fill) for pool in (_DETAILS, _QUOTES, _OUTLOOKS) for t in rng.sample(pool, 3))]
        passages.append(f"{subject.capitalize()} in {place}\n" + " ".join(sentences))
        questions.append(question.format(a=who, s=what, p=where))
    return RetrievalSet(tuple(passages), tuple(questions))


@dataclass(frozen=True)
class RetrievalScores:
    """Recall@1, Recall@10 and MRR@10 of a set of questions against their one right passage."""

    recall_1: float
    recall_10: float
    mrr_10: float

    def losses(self, other: RetrievalScores) -> dict[str, float]:
        """How much `other` loses against these scores, per measure (negative: it gains)."""
        return {"R@1": self.recall_1 - other.recall_1, "R@10": self.recall_10 - other.recall_10,
                "MRR@10": self.mrr_10 - other.mrr_10}


def retrieval_scores(passages: np.ndarray, questions: np.ndarray) -> RetrievalScores:
    """Scores of unit-row question vectors against unit-row passage vectors (question i → passage i)."""
    scores = questions @ passages.T
    right = scores[np.arange(len(questions)), np.arange(len(questions))]
    ranks = 1 + np.sum(scores > right[:, None], axis=1)  # ties count in the right passage's favour
    return RetrievalScores(float(np.mean(ranks == 1)), float(np.mean(ranks <= 10)),
                           float(np.mean(np.where(ranks <= 10, 1.0 / ranks, 0.0))))
