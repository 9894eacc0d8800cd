"""Follow-ups without an LLM: "more", "and terbium?", "what did he say?" resolved from history."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from index.brief import SPEECH
from index.lexical import frames_question, tokenize
from index.timeframe import timeless

__all__ = ["Turn", "Conversation", "Resolution", "resolve", "asks_for_summary", "lean_on_context", "on_topic", "topic_of",
           "people_in", "MAX_TURNS"]

MAX_TURNS = 20
# "more", "more on that", "what else?", "explain": the next passages of the last question ("more on that" searched
# "more on that Hurricane Ian" and showed the same passages again).
_MORE = re.compile(
    r"^(?:(?:show |tell me |give me |any )?more(?: please| results| passages| details)?(?: (?:on|about) (?:it|that|this|them))?|"
    r"next|go on|continue|keep going|anything else|what else|is that all|elaborate|explain(?: (?:it|that|this|more))?|"
    r"(?:more )?details(?: please)?)\W*$", re.I)
# "and before that?": what came before the oldest brief the last answer showed.
_BEFORE = re.compile(r"^(?:and |so )?(?:what (?:happened |came )?)?(?:before that|before then|earlier than that|"
                     r"and earlier|anything earlier)\W*$", re.I)
# "any updates?", "what's the latest?", "anything new?": in a conversation, the newest briefs about its topic; without
# one, the digest of the newest briefs ("What's new?", which stays the digest whatever was asked before).
_UPDATES = re.compile(r"^(?:(?:so|and|ok|okay)\W+)?(?:what(?:'s|’s|\s+is)\s+the\s+latest|(?:any(?:thing)?|got\s+any)\s+"
                      r"(?:new|news|updates?|developments?)|(?:the\s+)?latest|updates?|news)"
                      r"(?:\s+(?:on|about|with)\s+(?:it|that|this|them|this story))?\W*$", re.I)
# "when?", "why?", "where to?", "by how much?", "and to whom?": a question word and nothing of its own asks the
# last question again for what the word asks.
_BARE = re.compile(r"^(?:(?:and|so|but|ok|okay)\W+)?((?:(?:by|for|to|from|since|until|till)\s+)?"
                   r"(?:how(?:\s+(?:many|much|long|old|far|often|come))?|when|where|why|who|whom|whose|what\s+for))"
                   r"(?:\s+(?:to|from|exactly|then|now))?\W*$", re.I)
# "source?", "link please", "where is that from?", "send me the link": the briefs the last answer cited (a search for
# "link please" quoted "How to report an abusive user on Twitter").
_SOURCES = re.compile(r"^(?:(?:and|so|ok|okay)\W+)?(?:(?:what|where)(?:'s|’s|\s+is|\s+are)\s+(?:the\s+|your\s+)?)?"
                      r"(?:(?:any\s+|the\s+|your\s+)?(?:sources?|links?|urls?|citations?|references?)|"
                      r"(?:send|give|show|share)\s+(?:me\s+)?(?:the\s+|a\s+|your\s+)?(?:sources?|links?|urls?|articles?)|"
                      r"where(?:'s|’s|\s+is|\s+does)\s+(?:that|this|it)\s+(?:from|come\s+from)|"
                      r"where\s+did\s+you\s+(?:get|read|find)\s+(?:that|this|it)|"
                      r"(?:got|have\s+you\s+got|do\s+you\s+have)\s+(?:a\s+|the\s+|any\s+)?(?:sources?|links?))"
                      r"(?:\s+(?:please|pls))?\W*$", re.I)
# "tl;dr", "summarize (it)", "recap" alone: in a conversation, the story of its subject ("tl;dr" after Brittney Griner
# listed the newest briefs on anything); without one, the newest briefs. "What's new?" stays the digest.
_SUMMARY = re.compile(
    r"^\W*(?:(?:can|could|would) you\s+)?(?:please\s+)?(?:summari[sz]e(?:\s+(?:it|that|this))?|sum\s+(?:it\s+|that\s+)?up|"
    r"recap|tl;?dr|(?:give|send|tell)\s+me\s+(?:a|the)\s+(?:quick\s+|short\s+)?(?:summary|recap)|(?:a\s+|the\s+)?"
    r"(?:summary|recap)|in\s+short)(?:\s+please)?\W*$", re.I)
_AUXILIARY_FIRST = re.compile(r"^(?:is|are|was|were|do|does|did|has|have|had|will|would|can|could|should)\b", re.I)
_SWAP = re.compile(r"^(?:and|what about|how about|and what about|what of|same for|and about)\s+(.+?)\s*\??$", re.I)
# "What happened since then?", "and then?": the last question's subject, after the newest brief its answer showed.
_SINCE_THEN = re.compile(r"\b(?:since|after) (?:then|that)\b|^(?:and then|then what|what happened next|what came next)\W*$",
                         re.I)
# "and since her sentencing?", "what happened before his resignation?": the last subject's story, bounded by an
# event that points back (a pronoun in it, or "and …"); "since then" is the newest brief shown, above.
_EVENT_BOUND = re.compile(r"^(and\s+)?(?:what(?:'s|’s|\s+has|\s+have)?\s+(?:happened|changed)\s+)?"
                          r"((?:since|after|before|following)\s+(?!then\b|that\b).+?)\s*\??$", re.I)
# "and in Europe?", "what about for investors?": a qualifier that narrows the last question.
_QUALIFIER = re.compile(r"^(?:in|at|on|for|from|during|inside|outside|near|across|among|within|under)\b", re.I)
# A place or name after a preposition: "in Aleppo", "in the Karol Bagh".
_PLACED = re.compile(r"\b(?:in|at|on|from|near)\s+(?:the\s+)?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
# "in that crash", "about those talks": a demonstrative that points back, whatever else the question says.
_POINTING = re.compile(r"\b(?:in|on|at|about|from|of|with|for|after|before|during|since|to)\s+"
                       r"(?:this|that|these|those)\s+\w", re.I)
# People named by what they are: "the Gdańsk mayor", "the interior minister", "the WNBA star".
_ROLES = (r"(?:mayor|president|(?:prime )?minister|premier|chancellor|governor|senator|congress(?:wo)?man|secretary|"
          r"ambassador|king|queen|prince|princess|pope|judge|CEO|chair(?:man|woman)?|founder|leader|spokes(?:wo)?man|"
          r"spokesperson|candidate|star|singer|actor|actress|player|coach|pilot|officer|suspect|lawyer|attorney)")
_ROLE = re.compile(rf"\b{_ROLES}\b")  # one person, in lower case: "Star Wars" is no star, "her lawyers" no "she"
# "what did DeSantis say?", "what has Jamieson Greer said", "what did the interior minister say?": the speaker.
# "what did Brittney Griner's lawyers say?": the lawyers spoke, and "and Biden?" asks what Biden said (it asked what
# "Biden's lawyers" said); the possessor is what the question is about.
_SPEAKER = re.compile(r"\b(?:did|does|do|has|have|had|will|would)\s+((?:[A-Z][\w'’-]*\s+)*[A-Z][\w'’-]*|"
                      rf"the\s+(?:[\w'’-]+\s+){{0,2}}?{_ROLES}|"
                      rf"(?P<possessor>(?:the\s+)?(?:[\w-]+\s+){{0,2}}?[\w-]+)['’]s\s+{_ROLES}s?)"
                      r"\s+(?:say|said|tell|told|think|claim|announce|write|wrote)\b")
# "her lawyers" is Griner's lawyers, "who attacked her?" is Griner: "her" before a word that is not a preposition,
# adverb or article owns it.
_HER_OWNS = re.compile(r"\bher\b(?=\s+(?!(?:to|in|on|at|for|from|with|about|into|over|after|before|again|now|then|"
                       r"yet|still|back|out|up|down|off|away|free|and|or|but|so|if|when|because|as|than|that|this|"
                       r"the|a|an|last|yesterday|today|soon|first|too|already|anymore)\b)[a-z])", re.I)
# A question with at most this many informative terms says little of its own: in a conversation, when no passage
# meets it closely, it is asked within the topic ("how many people lost power?"). Quiz questions asked one after
# another say four or more, and read within the last one's topic lost dev R@1 0.880 → 0.807.
_SAYS_LITTLE = 3
# "Who resigned as governor?": its answer names the person a follow-up's "he" means.
_ASKS_WHO = re.compile(r"\W*who\b", re.I)
_PERSON_PRONOUN = re.compile(r"\b(he|she|him|his|her|hers)\b", re.I)
_THING_PRONOUN = re.compile(r"\b(it|its|they|them|their|this|that|these|those|there)\b", re.I)
# Capitalised runs of two or more words ("Jamieson Greer", "Adam Smith"); places and bodies match too, so
# `_names` drops those after "of"/"in" and those ending in an institution, and speech verbs decide the rest.
_NAME = re.compile(r"\b([A-Z][^\W\d_A-Z]+(?:\s+[A-Z][^\W\d_A-Z]+)+)\b")  # "Ricardo Rosselló" too
_PLACE_BEFORE = re.compile(r"\b(?:of|in|at|from|to|near|across|inside|outside)\s+(?:the\s+)?$", re.I)
_NOT_NAMES = {"The", "This", "That", "These", "While", "However", "According", "Rare", "Earth", "Exchanges",
              "Trade", "Representative", "President", "Department", "Big", "Beautiful", "Bill", "Wall", "Street",
              "Journal", "South", "North", "New", "United", "States", "House", "White", "Mesa", "Market", "Why",
              "Did", "Does", "Do", "What", "Who", "When", "Where", "How", "Is", "Was", "Has", "Have", "Can", "Will",
              "Tell", "Show", "And", "On", "In", "At", "For", "After", "Before", "Since", "By", "With", "From",
              *calendar.day_name, *calendar.month_name[1:]} - {"May", "June", "August"}  # first names too: Theresa May
# A capitalised run ending so is a body or an office, not a person: "Conservative Party", "Foreign Secretary".
_INSTITUTION = {"Party", "Committee", "Council", "University", "Court", "Ministry", "Agency", "Association", "Union",
                "Company", "Corporation", "Organization", "Organisation", "Secretary", "Minister", "Parliament",
                "Assembly", "Government", "Office", "Service", "Bank", "Fund", "Group", "Times", "Post", "Airlines"}


@dataclass(frozen=True)
class Turn:
    """One question as asked and as searched, with what it showed."""

    question: str
    resolved_query: str
    offset: int = 0
    k: int = 3
    article_ids: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    published_from: str | None = None
    published_to: str | None = None
    # A story (index/timeline.py): its subject, the briefs its timeline showed, and the oldest brief
    # the reader saw (what "and before that?" goes back from).
    story: str | None = None
    story_seen: tuple[str, ...] = ()
    earliest: str | None = None
    # What the conversation is about ("Hurricane Ian"): set by a question with a subject of its own, kept by
    # the follow-ups that lean on it, so "what did DeSantis say?" then "and Biden?" stay on the hurricane.
    topic: str = ""


@dataclass
class Conversation:
    """A chat's recent turns, capped so memory stays bounded; JSON-serialisable for persistence."""

    turns: list[Turn] = field(default_factory=list)

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def add(self, turn: Turn) -> None:
        self.turns = [*self.turns, turn][-MAX_TURNS:]

    def to_json(self) -> list[dict[str, object]]:
        return [asdict(t) for t in self.turns]

    @classmethod
    def from_json(cls, data: Sequence[dict[str, object]]) -> Conversation:
        turns = []
        for raw in data:
            raw = dict(raw)
            for key in ("article_ids", "people", "story_seen"):
                raw[key] = tuple(raw.get(key) or ())  # type: ignore[arg-type]
            turns.append(Turn(**raw))  # type: ignore[arg-type]
        return cls(turns[-MAX_TURNS:])


@dataclass(frozen=True)
class Resolution:
    """What to search for: `kind` is new, topic (asked within the conversation's topic), more, bare (the last
    question asked again: "when?"), update (the latest on the topic: "any updates?"), before, after ("since then"),
    window (the last subject's story bounded by an event or told for another time: "and before her trial?", "and last
    week?", or "tl;dr" with no window), sources (the briefs the last answer cited: "link?"), swap or reference; `focus`, what a swap asks
    about."""

    kind: str
    query: str
    offset: int = 0
    previous: Turn | None = None
    focus: str | None = None


def resolve(question: str, conversation: Conversation, idf: Callable[[str], float]) -> Resolution:
    """Rewrite a follow-up into a self-contained query using the previous turn."""
    previous = conversation.last
    text = question.strip()
    if _SOURCES.match(text):
        return Resolution("sources", previous.resolved_query if previous else "", 0, previous)
    if _UPDATES.match(text):
        subject = _subject(previous, idf) if previous else ""
        if not subject:
            return Resolution("new", "What's new?")
        return Resolution("update", f"latest {subject}", 0, previous)  # searched as "{subject}", newest first
    if _SUMMARY.match(text):
        return _story_within("", previous, idf) if previous and _subject(previous, idf) else Resolution("new", "What's new?")
    if previous is None:
        return Resolution("new", text)
    if _MORE.match(text):
        return Resolution("more", previous.resolved_query, previous.offset + previous.k, previous)
    if _BEFORE.match(text):
        return Resolution("before", previous.story or previous.resolved_query, 0, previous)
    if bare := _BARE.match(text):
        return Resolution("bare", _asked_again(bare.group(1), previous), 0, previous)
    if _SINCE_THEN.search(text):
        return Resolution("after", _since_then(text, previous, idf), 0, previous)
    bound = _EVENT_BOUND.match(text)
    if bound and (bound.group(1) or _has_pronoun(bound.group(2))):
        return _story_within(bound.group(2), previous, idf)
    swap = _SWAP.match(text)
    if swap and not timeless(swap.group(1)).strip(" ?"):
        # "and last week?" after "What happened with monkeypox this week?" (the time phrase used to be swapped in for
        # "monkeypox", and "What happened with?" searched): the story told for that time, or the last question asked.
        if previous.story:
            return _story_within(swap.group(1), previous, idf)
        return Resolution("swap", f"{previous.resolved_query.rstrip(' ?')} {swap.group(1)}?", 0, previous)
    if swap:  # "and her lawyers?" asks about Griner's lawyers (it searched "What happened with her lawyers?")
        focus = _named(swap.group(1), previous)
        return Resolution("swap", _swap_focus(previous.resolved_query, focus, idf), 0, previous, focus)
    if _leans_on_context(text, idf):
        return Resolution("reference", _fill_references(text, previous, idf), 0, previous)
    return Resolution("new", text)


def _story_within(window: str, previous: Turn, idf: Callable[[str], float]) -> Resolution:
    """The last subject's story told within `window` ("since her sentencing", "last week"): the story's subject without
    the window it was told in ("Brittney Griner since her sentencing")."""
    subject = timeless(previous.story, story=True) if previous.story else _subject(previous, idf) or previous.resolved_query
    return Resolution("window", f"What happened with {' '.join(filter(None, (subject, window)))}?", 0, previous)


def asks_for_summary(question: str) -> bool:
    """"tl;dr", "summarize", "recap" alone: the conversation decides what it summarises (`resolve`)."""
    return _SUMMARY.match(question.strip()) is not None


def lean_on_context(question: str, conversation: Conversation, idf: Callable[[str], float]) -> Resolution | None:
    """The question read as leaning on the last one, whatever it says of its own, when it has a pronoun that
    could point back (the engine asks so when the question alone is refused); None without either."""
    previous = conversation.last
    text = question.strip()
    if previous is None or not _has_pronoun(timeless(text)):
        return None
    return Resolution("reference", _fill_references(text, previous, idf), 0, previous)


def on_topic(question: str, conversation: Conversation, idf: Callable[[str], float]) -> Resolution | None:
    """The question asked within the conversation's topic ("how did the markets react?" + "Liz Truss"); None
    without a topic, when the question already names it, names no subject at all ("what's new this week?") or
    says more than `_SAYS_LITTLE` things of its own."""
    previous = conversation.last
    asked = timeless(question)
    subject = [t for t in tokenize(asked) if not frames_question(t)]  # "what's new this week?" has none
    if previous is None or not previous.topic or not subject or len(_informative(asked, idf)) > _SAYS_LITTLE:
        return None
    carried = _known_words(previous.topic, idf, beside=question)
    return Resolution("topic", f"{question} {' '.join(carried)}", 0, previous) if carried else None


def topic_of(query: str, resolution: Resolution, idf: Callable[[str], float]) -> str:
    """A question with a subject of its own starts a topic (its words the corpus knows, less those framing it);
    a follow-up keeps the one it leaned on while it still searches it ("what did Biden say? Hurricane Ian"), and
    one that swapped it out starts its own ("what about Brittney Griner?" after monkeypox)."""
    own = " ".join(_known_words(timeless(query), idf))
    previous = resolution.previous
    if resolution.kind == "new" or previous is None:
        return own
    kept = _subject(previous, idf)
    return kept if set(tokenize(kept)) <= set(tokenize(query)) else own


def _asked_again(word: str, previous: Turn) -> str:
    """The last question asked for what `word` asks: "by how much?" after "Did Liz Truss win the contest?" → "By
    how much did Liz Truss win the contest?"; after a question that opens otherwise, the word before it ("When?
    Where did Ian make landfall?"). After a bare question, the question it was asked of ("where to?", "and when?")."""
    asked = previous.resolved_query
    earlier = _BARE.match(previous.question)
    if earlier and asked.lower().startswith(said := _question_word(earlier.group(1))):
        asked = asked[len(said):].lstrip(" ?")
    word = _question_word(word)
    if _AUXILIARY_FIRST.match(asked):
        return f"{word.capitalize()} {asked[:1].lower()}{asked[1:]}"
    return f"{word.capitalize()}? {asked[:1].upper()}{asked[1:]}"


def _question_word(said: str) -> str:
    said = re.sub(r"\s+", " ", said.lower())
    return {"how come": "why", "what for": "why"}.get(said, said)


def _has_pronoun(text: str) -> bool:
    return bool(_PERSON_PRONOUN.search(text) or _THING_PRONOUN.search(text))


def _leans_on_context(text: str, idf: Callable[[str], float]) -> bool:
    """A pronoun and at most two informative words of its own ("why did it fall apart?"), or a demonstrative
    that points back ("how many died in that crash?"). The "this" of a time phrase is no reference: "what's
    new this week?" asks for the newest briefs, not the last subject."""
    untimed = timeless(text)
    if not _has_pronoun(untimed):
        return False
    return len(_informative(text, idf)) <= 2 or bool(_POINTING.search(untimed))


def _informative(text: str, idf: Callable[[str], float]) -> list[str]:
    """The terms that say what a question is about: known to the corpus, not too common, not framing it."""
    return [t for t in tokenize(text) if idf(t) > 1.0 and not frames_question(t)]


def _swap_focus(previous_query: str, new_focus: str, idf: Callable[[str], float]) -> str:
    """The last question about the new subject. "and in Europe?" narrows it ("how many cases? monkeypox in
    Europe"); a new name replaces the person the question named ("how is Joe Biden doing?" + "and Jill Biden?");
    after "what did Jamieson Greer say? Geneva", a word in lower case is no speaker but a thing asked about in the
    story ("and terbium?" → "terbium Geneva", not "what did terbium say? Geneva"); anything else replaces the
    subject word most like it in rarity: a rare name for a rare name ("dysprosium prices" + "and terbium?" →
    "terbium prices"), a common word for a common one ("monkeypox cases" + "what about vaccines?" → "monkeypox
    vaccines"), whole if it is part of a name. A word that frames the question ("say", "happened") is never
    replaced."""
    if _QUALIFIER.match(new_focus):
        placed = list(_PLACED.finditer(previous_query))
        if placed and _PLACED.match(new_focus):  # "in Aleppo" → "in Magnitogorsk": another place, not a narrower one
            return previous_query[: placed[-1].start()] + new_focus + previous_query[placed[-1].end():]
        return f"{previous_query.rstrip(' ?')} {new_focus}"
    speaker = _SPEAKER.search(previous_query)
    named = (name for name in _names(previous_query) if name in previous_query)
    person = speaker.group(1) if speaker else next(named, None)
    if person and (new_focus[:1].isupper() or _ROLE.search(new_focus)):  # "and Biden?", "and the president?"
        # "and her wife?" after "…Brittney Griner's lawyers?" names her again: it replaces what was hers.
        owned = re.escape(person) + (r"(?:['’]s\s+[\w-]+)?" if person in new_focus else "")
        swapped = re.sub(owned, lambda _: new_focus, previous_query)
        possessor = speaker.group("possessor") if speaker else None
        return f"{swapped} {possessor}" if possessor and possessor not in swapped else swapped
    if person and SPEECH.search(previous_query):
        return " ".join([new_focus, *_known_words(previous_query.replace(person, " "), idf)])
    words = [(m, idf(terms[0])) for m in re.finditer(r"\w[\w'%-]*", previous_query)
             if (terms := tokenize(m.group(0))) and not frames_question(terms[0])]
    focus_terms = tokenize(new_focus)
    rarity = idf(focus_terms[0]) if focus_terms else max((rare for _, rare in words), default=0.0)
    best, best_rarity = min(words, key=lambda word: abs(word[1] - rarity), default=(None, 0.0))
    if best is None or best_rarity <= 0:
        return f"{new_focus} {previous_query}".strip()
    start, end = _name_around(previous_query, best.start(), best.end())
    return previous_query[:start] + new_focus + previous_query[end:]


def _name_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the capitalised name a word belongs to ("Greer" → "Jamieson Greer"), else the word's own."""
    for match in _NAME.finditer(text):
        if match.start() <= start < match.end():
            words = [w for w in re.finditer(r"[A-Z][a-z]+", match.group(0)) if w.group(0) not in _NOT_NAMES]
            if len(words) >= 2 and words[0].start() + match.start() <= start:
                return match.start() + words[0].start(), match.start() + words[-1].end()
    return start, end


def _fill_references(text: str, previous: Turn, idf: Callable[[str], float]) -> str:
    """He/she → the person the topic names by role ("the Gdańsk mayor"), else the person the last answer was about;
    it/they → the last question's subject."""
    resolved = _named(text, previous)
    subject = _subject(previous, idf, resolved)
    return f"{resolved} {subject}".strip() if subject else resolved


def _named(text: str, previous: Turn) -> str:
    """He, she, his, her → the person they mean (`_person_meant`): "her lawyers" → "Brittney Griner's lawyers"."""
    person = _person_meant(text, previous)
    if not person:
        return text
    named = re.sub(r"\b(his|hers)\b", f"{person}'s", text, flags=re.I)
    named = _HER_OWNS.sub(f"{person}'s", named)
    return re.sub(r"\b(he|she|him|her)\b", person, named, flags=re.I)


def _person_meant(text: str, previous: Turn) -> str | None:
    """Who "he" or "she" is: "who attacked him?" after "What happened to the Gdańsk mayor?" is the mayor, not a
    minister the answer quoted; but "what did he say?" asks about a speaker, and after "Who was elected leader?"
    the answer names him."""
    if not _PERSON_PRONOUN.search(text):
        return None
    if _ROLE.search(previous.topic) and not SPEECH.search(text) and not _ASKS_WHO.match(previous.question):
        return f"the {previous.topic}"
    return previous.people[0] if previous.people else None


def _since_then(text: str, previous: Turn, idf: Callable[[str], float]) -> str:
    """The last question's subject, after the question's own if it names one ("what did China do since then?")."""
    own = re.sub(r"\s+", " ", _SINCE_THEN.sub(" ", text)).strip(" ?")
    subject = _subject(previous, idf) or previous.resolved_query
    return f"{own} {subject}" if any(not frames_question(t) for t in tokenize(own)) else subject


def _subject(previous: Turn, idf: Callable[[str], float], beside: str = "") -> str:
    """The conversation's topic, else the words of the last question the corpus knows, less those framing it and those
    `beside` already has: "What happened with Geneva?" → "Geneva"; "what did Joe Biden say? Covid" beside "how is Joe
    Biden?" → "Covid". The topic, not every word of the last question: "where is she now?" after "is she still in
    prison?" searched "where is Brittney Griner now? still prison", and such words piled up turn after turn."""
    return " ".join(_known_words(previous.topic or previous.resolved_query, idf, beside))


def _known_words(text: str, idf: Callable[[str], float], beside: str = "") -> list[str]:
    """The words of `text` the corpus knows, once each, less those framing a question and those `beside` has."""
    seen = set(tokenize(beside))
    kept = []
    for word in re.findall(r"\w[\w'%-]*", text):
        terms = tokenize(word)
        if terms and idf(terms[0]) > 0 and not frames_question(terms[0]) and terms[0] not in seen:
            seen.add(terms[0])
            kept.append(word)
    return kept


def people_in(question: str, passages: Sequence[str], answered: str = "") -> tuple[str, ...]:
    """People named in the question first, then, when it asked "who", those the answer's first sentence names
    ("Who resigned as governor of Puerto Rico?" → Ricardo Rosselló), then those quoted in the passages."""
    found: list[str] = []
    for name in _names(question) + (_names(answered) if _ASKS_WHO.match(question) else []):
        if name not in found:
            found.append(name)
    for passage in passages:
        for sentence in re.split(r"(?<=[.!?])\s+", passage):
            if SPEECH.search(sentence):
                found.extend(n for n in _names(sentence) if n not in found)
    return tuple(found[:5])


def _names(text: str) -> list[str]:
    """Capitalised runs that could be people: not one after "of", "in", "at"… ("governor of Puerto Rico")."""
    names = []
    for match in _NAME.finditer(text):
        if _PLACE_BEFORE.search(text[: match.start()]):
            continue
        words = [w for w in match.group(1).split() if w not in _NOT_NAMES]
        if len(words) >= 2 and words[-1] not in _INSTITUTION:
            names.append(" ".join(words[-3:]))
    return names
