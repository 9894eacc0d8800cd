"""The other forms of a question's word that a passage may use instead: "Who led the delegation?" is
answered by "leading the first House delegation", "What did China agree to?" by "the agreement", "Why did
the truce fail?" by "China's failure". The stemmer keeps these apart (led/lead, agre/agreement,
fail/failur), so the relevance gate counted the word as missing and refused the question.

Only the gate's reading of "does this passage hold the question's words" uses the forms; BM25 scores and
the index are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["irregular_stems", "related_forms"]

# Irregular past forms and their base verb, as a reader writes one and a brief the other.
_IRREGULAR = (
    "arose arise, arisen arise, awoke awake, bore bear, borne bear, beat beat, became become, began begin, "
    "begun begin, bent bend, bet bet, bid bid, bit bite, bitten bite, bled bleed, blew blow, blown blow, "
    "broke break, broken break, bred breed, brought bring, built build, burnt burn, burst burst, bought buy, "
    "caught catch, chose choose, chosen choose, clung cling, came come, cost cost, crept creep, dealt deal, "
    "dug dig, did do, done do, drew draw, drawn draw, dreamt dream, drank drink, drunk drink, drove drive, "
    "driven drive, ate eat, eaten eat, fell fall, fallen fall, fed feed, felt feel, fought fight, found find, "
    "fled flee, flung fling, flew fly, flown fly, forbade forbid, forbidden forbid, forgot forget, "
    "forgotten forget, forgave forgive, forgiven forgive, froze freeze, frozen freeze, got get, gotten get, "
    "gave give, given give, went go, gone go, grew grow, grown grow, hung hang, heard hear, hid hide, "
    "hidden hide, held hold, hurt hurt, kept keep, knelt kneel, knew know, known know, laid lay, led lead, "
    "leapt leap, learnt learn, left leave, lent lend, lay lie, lain lie, lit light, lost lose, made make, "
    "meant mean, met meet, paid pay, proved prove, proven prove, quit quit, ran run, rang ring, rung ring, "
    "rose rise, risen rise, rode ride, ridden ride, said say, sang sing, sung sing, sank sink, sunk sink, "
    "sat sit, saw see, seen see, sought seek, sold sell, sent send, set set, shook shake, shaken shake, "
    "shed shed, shone shine, shot shoot, showed show, shown show, shrank shrink, shrunk shrink, shut shut, "
    "slept sleep, slid slide, slung sling, spoke speak, spoken speak, sped speed, spent spend, spun spin, "
    "spat spit, split split, spread spread, sprang spring, sprung spring, stood stand, stole steal, "
    "stolen steal, stuck stick, stung sting, stank stink, struck strike, stricken strike, strove strive, "
    "swore swear, sworn swear, swept sweep, swam swim, swum swim, swung swing, took take, taken take, "
    "taught teach, tore tear, torn tear, told tell, thought think, threw throw, thrown throw, trod tread, "
    "understood understand, undertook undertake, undertaken undertake, upheld uphold, upset upset, "
    "woke wake, woken wake, wore wear, worn wear, wove weave, woven weave, wept weep, won win, wound wind, "
    "withdrew withdraw, withdrawn withdraw, wrote write, written write, overtook overtake, overtaken overtake, "
    "overthrew overthrow, overthrown overthrow, mistook mistake, mistaken mistake, foresaw foresee, "
    "foreseen foresee, rebuilt rebuild, redid redo, withheld withhold, withstood withstand"
)
# A derived word's stem extends its base's by one of these: agre → agreement, fail → failur, alli → allianc,
# recov → recoveri, invest → investor, lead → leader. Left out: -t and -al join unrelated words (plan and plant,
# form and formal), -i let an off-corpus question through ("strategic" for "strategy"; it also joins Changi to
# change), and snowball already joins elect and election.
_DERIVED_ENDINGS = ("ment", "ement", "ur", "anc", "enc", "eri", "er", "or")
_MIN_BASE = 4


def irregular_stems(stem_words: Callable[[list[str]], list[str]]) -> dict[str, frozenset[str]]:
    """Stem → the stems of the same verb's irregular forms ("led" → lead, "lead" → led)."""
    pairs = [pair.split() for pair in _IRREGULAR.split(", ")]
    past = stem_words([p for p, _ in pairs])
    base = stem_words([b for _, b in pairs])
    forms: dict[str, set[str]] = {}
    for p, b in zip(past, base):
        if p != b:
            forms.setdefault(p, set()).add(b)
            forms.setdefault(b, set()).add(p)
    return {stem: frozenset(others) for stem, others in forms.items()}


def related_forms(term: str) -> list[str]:
    """The stems one derivational ending away from `term`, either way: "fail" → failur…, "failur" → fail."""
    longer = [term + e for e in _DERIVED_ENDINGS] if len(term) >= _MIN_BASE else []
    shorter = [term[: -len(e)] for e in _DERIVED_ENDINGS if term.endswith(e) and len(term) - len(e) >= _MIN_BASE]
    return longer + shorter
