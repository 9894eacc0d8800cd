"""British and American spellings of one word index as one term: a brief on "export licences" answers
"who got export licenses?", and "defence" finds "defense". Publishers in one corpus spell both ways (the
Wikinews corpus has "organisation" 56 times and "organization" 40, "defence" 16 and "defense" 13).

The table maps stems, so every inflection follows its base word ("licenced", "organisations"). Only pairs
whose British stem names nothing else are listed: "tonne" is not a short "ton", a "draught" is no "draft",
"calibre" would take "calibrate" along, and "Grey" is a surname as often as a colour.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["american_stems"]

# Words whose British form differs in a fixed way; each is listed with the American form.
_PAIRS = (
    "licence license, licences licenses, defence defense, defences defenses, offence offense, offences offenses, "
    "pretence pretense, aluminium aluminum, sulphur sulfur, sulphate sulfate, sulphide sulfide, sulphuric sulfuric, "
    "sulphides sulfides, caesium cesium, programme program, programmes programs, centre center, centres centers, "
    "centred centered, metre meter, metres meters, kilometre kilometer, kilometres kilometers, centimetre centimeter, "
    "millimetre millimeter, litre liter, litres liters, theatre theater, theatres theaters, fibre fiber, fibres fibers, "
    "spectre specter, sombre somber, meagre meager, manoeuvre maneuver, manoeuvres maneuvers, "
    "jewellery jewelry, catalogue catalog, enrolment enrollment, instalment installment, fulfil fulfill, "
    "skilful skillful, wilful willful, ageing aging, judgement judgment, acknowledgement acknowledgment, "
    "sceptic skeptic, sceptical skeptical, scepticism skepticism, plough plow, mould mold, smoulder smolder, "
    "paediatric pediatric, anaemia anemia, haemorrhage hemorrhage, oestrogen estrogen, foetus fetus, "
    "orthopaedic orthopedic, diarrhoea diarrhea, leukaemia leukemia, anaesthetic anesthetic, "
    "gynaecology gynecology, aeroplane airplane, aeroplanes airplanes, practise practice, practised practiced, "
    "travelled traveled, travelling traveling, traveller traveler, travellers travelers, modelled modeled, "
    "modelling modeling, cancelled canceled, cancelling canceling, labelled labeled, labelling labeling, "
    "fuelled fueled, fuelling fueling, signalled signaled, signalling signaling, levelled leveled, "
    "channelled channeled, counselling counseling, counsellor counselor, totalled totaled, "
    "analyse analyze, analysed analyzed, analysing analyzing, paralyse paralyze, paralysed paralyzed, "
    "catalyse catalyze, catalysed catalyzed"
)
# Words in -our whose American form drops the u ("labour", "labourer", "favourite" follow their base).
_OUR = ("labour favour favourite honour colour harbour neighbour behaviour rumour vapour flavour endeavour humour odour "
        "armour valour vigour splendour tumour saviour parlour rigour ardour clamour candour").split()
# Verbs in -ise written -ize in American English, with their -isation nouns; "advise", "revise", "promise",
# "surprise", "exercise" and "compromise" are -ise on both sides and not here.
_ISE = ("organ real recogn priorit subsid weapon monopol stabil critic author util emphas minim maxim national "
        "industrial modern normal liberal militar civil special urban character colon decentral democrat digital "
        "digit harmon immun legal local mobil monet optim polar rational regular synchron visual capital central "
        "commercial criminal decarbon hospital radical securit standard union apolog categor summar theor final "
        "privat global jeopard fertil steril energ agon symbol scrutin sympath terror vapor custom familiar marginal "
        "neutral penal revital social stigmat trivial sanit equal").split()
_ISE_ENDINGS = ("ise", "ised", "ises", "ising", "isation", "isations", "iser", "isers")


def _word_pairs() -> list[tuple[str, str]]:
    pairs = [(pair.split()[0], pair.split()[1]) for pair in _PAIRS.split(", ")]
    pairs += [(word, word.replace("our", "or")) for word in _OUR]
    pairs += [(root + ending, root + ending.replace("is", "iz", 1)) for root in _ISE for ending in _ISE_ENDINGS]
    return pairs


def american_stems(stem_words: Callable[[list[str]], list[str]]) -> dict[str, str]:
    """British stem → American stem, by the stemmer the index uses; a pair whose stems agree is left out."""
    pairs = _word_pairs()
    british = stem_words([b for b, _ in pairs])
    american = stem_words([a for _, a in pairs])
    return {b: a for b, a in zip(british, american) if b != a}
