"""Generated news-like sentences: a corpus of known size for tests that must not depend on ../shared."""

from __future__ import annotations

import itertools
import random

__all__ = ["generated_news_sentences"]

_ACTORS = ["The commerce ministry", "A Senate committee", "Lynas Rare Earths", "The port authority", "Farmers in Iowa",
           "The central bank", "A wildfire crew", "The city council", "Toyota", "Striking dock workers",
           "The health agency", "A consortium of miners", "The football federation", "Researchers in Oslo",
           "The election commission", "An oil refinery"]
_ACTIONS = ["announced new limits on", "reported a sharp rise in", "filed a lawsuit over", "signed a deal covering",
            "delayed a decision on", "warned investors about", "published a study of", "cut its forecast for",
            "opened an inquiry into", "doubled spending on", "suspended shipments of", "celebrated a record in"]
_OBJECTS = ["magnet exports", "grain prices", "hospital waiting times", "coastal flood defences", "vaccine supplies",
            "youth unemployment", "electric vehicle batteries", "tuition fees", "wheat harvests", "airline safety",
            "terbium refining", "water rationing", "ticket sales", "copper smelting"]
_WHEN = ["on Monday", "last week", "after months of talks", "despite protests", "for the third year running",
         "ahead of the summit", "late on Friday", "amid a heatwave"]


def generated_news_sentences(n: int, seed: int = 11) -> list[str]:
    """`n` distinct sentences (actor, action, object, time), shuffled deterministically."""
    combos = list(itertools.product(_ACTORS, _ACTIONS, _OBJECTS, _WHEN))
    random.Random(seed).shuffle(combos)
    return [f"{a} {b} {c} {d}." for a, b, c, d in combos[:n]]
