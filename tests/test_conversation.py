"""Follow-up resolution without an LLM."""

from __future__ import annotations

from index.conversation import Conversation, Resolution, Turn, lean_on_context, on_topic, people_in, resolve, topic_of

IDF = {"geneva": 2.0, "terbium": 2.5, "dysprosium": 2.5, "price": 1.2, "greer": 3.0, "fall": 1.5, "apart": 1.5}


def idf(term: str) -> float:
    return IDF.get(term, 0.5)


def _conversation(*turns: Turn) -> Conversation:
    conversation = Conversation()
    for turn in turns:
        conversation.add(turn)
    return conversation


def test_first_question_is_new() -> None:
    assert resolve("What happened with Geneva?", Conversation(), idf).kind == "new"


def test_more_pages_the_previous_question() -> None:
    conv = _conversation(Turn("What happened with Geneva?", "What happened with Geneva?", offset=0, k=3))
    resolution = resolve("more", conv, idf)
    assert (resolution.kind, resolution.query, resolution.offset) == ("more", "What happened with Geneva?", 3)


def test_and_x_swaps_the_focus_term() -> None:
    conv = _conversation(Turn("What are dysprosium prices doing?", "What are dysprosium prices doing?"))
    resolution = resolve("and terbium?", conv, idf)
    assert resolution.kind == "swap"
    assert resolution.query == "What are terbium prices doing?"


def test_and_x_never_swaps_a_question_word_and_swaps_a_name_whole() -> None:
    """"what did he say?" became "what did Jamieson Greer say? Geneva"; "and terbium?" used to replace
    "say" (the rarest word in two briefs) and searched "what did Jamieson Greer terbium? Geneva", then
    "what did terbium say? Geneva", which found Greer's quote again."""
    conv = _conversation(Turn("what did he say?", "what did Jamieson Greer say? Geneva", people=("Jamieson Greer",)))
    frequent = {**IDF, "say": 4.0, "jamieson": 3.0}
    assert resolve("and Bessent?", conv, frequent.__getitem__).query == "what did Bessent say? Geneva"
    # A word in lower case is no speaker: terbium is asked about in the story, not made to say something.
    assert resolve("and terbium?", conv, lambda t: frequent.get(t, 0.5)).query == "terbium Geneva"
    conv = _conversation(Turn("What Jamieson Greer said", "What Jamieson Greer said"))
    assert resolve("and Bessent?", conv, idf).query == "What Bessent said"


def test_a_qualifier_narrows_a_name_replaces_the_person_and_context_never_piles_up() -> None:
    """Seen on the news corpus: "and in Europe?" replaced "monkeypox", "and Jill Biden?" replaced "positive",
    and "how is he doing?" searched "how is Joe Biden doing? Joe Biden say tested positive Covid"."""
    conv = _conversation(Turn("how many cases are there?", "how many cases are there? monkeypox"))
    assert resolve("and in Europe?", conv, idf).query == "how many cases are there? monkeypox in Europe"
    said = Turn("what did he say?", "what did Joe Biden say? tested positive Covid", people=("Joe Biden",))
    doing = resolve("how is he doing?", _conversation(said), lambda t: 1.0)
    assert doing.query == "how is Joe Biden doing? tested positive Covid"
    conv = _conversation(said, Turn("how is he doing?", doing.query))
    assert resolve("and Jill Biden?", conv, idf).query == "how is Jill Biden doing? tested positive Covid"


def test_and_x_replaces_the_word_most_like_it_in_rarity() -> None:
    """"what about vaccines?" after monkeypox cases asks about monkeypox vaccines: it used to replace "monkeypox",
    the rarest word, and search vaccine cases in general."""
    rarity = {"monkeypox": 4.0, "case": 1.5, "vaccin": 1.8, "europ": 2.5}
    conv = _conversation(Turn("and in Europe?", "how many cases are there? monkeypox in Europe"))
    assert resolve("what about vaccines?", conv, lambda t: rarity.get(t, 0.5)).query == \
        "how many vaccines are there? monkeypox in Europe"


def test_a_time_phrase_is_no_reference() -> None:
    """"What's new this week?" after a conversation asks for the week's briefs; "there" still refers back."""
    conv = _conversation(Turn("What happened with Geneva?", "What happened with Geneva?"))
    assert resolve("what is new this week?", conv, idf).kind == "new"
    assert resolve("anything from that day?", conv, idf).kind == "reference"  # no time phrase: "that" refers
    assert "Geneva" in resolve("what happened there this week?", conv, idf).query


def test_since_then_asks_for_the_last_subject_after_what_was_shown() -> None:
    conv = _conversation(Turn("What happened with Geneva?", "What happened with Geneva?", article_ids=("a",)))
    resolution = resolve("what happened since then?", conv, lambda t: IDF.get(t, 0.0))
    assert (resolution.kind, resolution.query) == ("after", "Geneva")
    assert resolve("what did terbium do since then?", conv, lambda t: IDF.get(t, 0.0)).query == "what did terbium do Geneva"


def test_an_event_that_points_back_bounds_the_last_subjects_story() -> None:
    """"And before her trial?" used to swap "before her trial" into the last question ("her before her trial")."""
    told = Turn("What happened with Geneva?", "What happened with Geneva?", story="Geneva since the truce")
    conv = _conversation(told)
    for question, expected in [("and before her trial?", "What happened with Geneva before her trial?"),
                               ("what happened since his resignation?", "What happened with Geneva since his resignation?"),
                               ("and after the vote?", "What happened with Geneva after the vote?")]:
        resolution = resolve(question, conv, idf)
        assert (resolution.kind, resolution.query) == ("window", expected), question
    plain = _conversation(Turn("What did Greer say?", "What did Greer say?"))
    assert resolve("and before his trial?", plain, idf).query == "What happened with Greer before his trial?"
    assert resolve("what happened since the vote?", conv, idf).kind == "new"  # nothing points back: a question of its own
    assert resolve("and since then?", conv, idf).kind == "after"


def test_a_question_with_a_pronoun_can_always_be_read_against_the_last_one() -> None:
    """What the engine asks when the question alone is refused: with the last subject, if it has a pronoun."""
    conv = _conversation(Turn("Which state declared an emergency?", "Which state declared an emergency? Barry"))
    question = "how many National Guard troops did its governor arrange?"
    assert resolve(question, conv, lambda t: 2.0).kind == "new"  # five words of its own: read alone first
    leaning = lean_on_context(question, conv, lambda t: 2.0)
    assert leaning is not None and leaning.kind == "reference" and leaning.query.endswith("Barry")
    assert lean_on_context("how many troops were sent?", conv, idf) is None
    assert lean_on_context("what is new this week?", conv, idf) is None
    assert lean_on_context(question, Conversation(), idf) is None


def test_he_becomes_the_person_of_the_last_answer() -> None:
    conv = _conversation(Turn("What happened with Geneva?", "What happened with Geneva?", people=("Jamieson Greer",)))
    resolution = resolve("what did he say?", conv, idf)
    assert resolution.kind == "reference"
    assert "Jamieson Greer" in resolution.query and "Geneva" in resolution.query


def test_it_carries_the_subject_along() -> None:
    conv = _conversation(Turn("What happened with Geneva?", "What happened with Geneva?"))
    assert "Geneva" in resolve("why did it fall apart?", conv, idf).query


def test_self_contained_question_is_not_rewritten() -> None:
    conv = _conversation(Turn("What happened with Geneva?", "What happened with Geneva?"))
    assert resolve("Who controls rare earth processing in China?", conv, idf).kind == "new"


def test_people_prefers_the_question_then_quoted_speakers() -> None:
    passages = ["U.S. Trade Representative Jamieson Greer stated on CNBC that the deal was dead."]
    assert people_in("what happened in Geneva", passages) == ("Jamieson Greer",)
    assert people_in("Did Adam Smith visit?", passages)[0] == "Adam Smith"


def test_conversation_round_trips_and_is_capped() -> None:
    conv = _conversation(*[Turn(f"q{i}", f"q{i}", article_ids=("a",)) for i in range(50)])
    again = Conversation.from_json(conv.to_json())
    assert again.turns == conv.turns and len(again.turns) == 20


def test_after_what_a_speaker_said_a_name_is_the_next_speaker_and_a_thing_is_asked_about_in_the_topic() -> None:
    """Seen on the news corpus: after "what did DeSantis say? Hurricane Ian", "and Biden?" replaced "Hurricane"
    and "what about insurance?" searched "what did insurance say?" (car insurance rates from 2019)."""
    said = Turn("what did DeSantis say?", "what did DeSantis say? Hurricane Ian", topic="Hurricane Ian")
    known = {"desanti": 5.0, "hurrican": 3.4, "ian": 3.8, "biden": 2.2, "insur": 5.0}.get
    assert resolve("and Biden?", _conversation(said), lambda t: known(t, 0.5)).query == "what did Biden say? Hurricane Ian"
    thing = resolve("what about insurance?", _conversation(said), lambda t: known(t, 0.5))
    assert (thing.kind, thing.query, thing.focus) == ("swap", "insurance Hurricane Ian", "insurance")


def test_a_question_that_says_little_can_be_asked_within_the_topic_one_that_says_more_cannot() -> None:
    conv = _conversation(Turn("What happened with Liz Truss?", "What happened with Liz Truss?", topic="Liz Truss"))
    markets = on_topic("how did the markets react?", conv, lambda t: 2.0)
    assert markets is not None and (markets.kind, markets.query) == ("topic", "how did the markets react? Liz Truss")
    assert on_topic("Which movie topped the US box office this week?", conv, lambda t: 2.0) is None  # says four things
    assert on_topic("what did Liz Truss say?", conv, lambda t: 2.0) is None  # names the topic already
    assert on_topic("how did the markets react?", _conversation(Turn("q", "q")), lambda t: 2.0) is None  # no topic
    assert on_topic("what is new this week?", conv, lambda t: 2.0 if t == "week" else 0.5) is None  # no subject


def test_a_question_with_a_subject_starts_a_topic_and_a_follow_up_keeps_it() -> None:
    known = {"hurrican": 3.4, "ian": 3.8, "desanti": 5.0}.get
    asked = Resolution("new", "What happened with Hurricane Ian?")
    assert topic_of("What happened with Hurricane Ian this week?", asked, lambda t: known(t, 0.0)) == "Hurricane Ian"
    previous = Turn("What happened with Hurricane Ian?", "What happened with Hurricane Ian?", topic="Hurricane Ian")
    follow = Resolution("topic", "what did DeSantis say? Hurricane Ian", 0, previous)
    assert topic_of(follow.query, follow, lambda t: known(t, 0.0)) == "Hurricane Ian"
    # A swap that no longer searches the topic starts its own: "what about Brittney Griner?" after monkeypox.
    pox = Turn("What happened with monkeypox?", "What happened with monkeypox?", topic="monkeypox")
    swapped = Resolution("swap", "What happened with Brittney Griner?", 0, pox, "Brittney Griner")
    assert topic_of(swapped.query, swapped, lambda t: 3.0) == "Brittney Griner"


def test_a_conversation_saved_before_topics_loads() -> None:
    saved = [{"question": "q", "resolved_query": "q", "article_ids": ["a"]}]
    assert Conversation.from_json(saved).turns[0].topic == ""
    topical = _conversation(Turn("q", "q", topic="Hurricane Ian"))
    assert Conversation.from_json(topical.to_json()).turns == topical.turns


def test_a_person_named_by_role_is_who_the_pronoun_means_unless_asked_what_was_said() -> None:
    """Seen on Wikinews: after "What happened to the Gdańsk mayor?", "who attacked him?" searched "who attacked
    Minister Donald Tusk?" (the first person the answer quoted), and "and the president?" after "what did the
    interior minister say?" replaced "mayor"."""
    mayor = Turn("What happened to the Gdańsk mayor?", "What happened with Gdańsk mayor?",
                 people=("Minister Donald Tusk",), topic="Gdańsk mayor")
    assert resolve("who attacked him?", _conversation(mayor), idf).query == "who attacked the Gdańsk mayor?"
    assert resolve("what did he say?", _conversation(mayor), idf).query.startswith("what did Minister Donald Tusk say?")
    minister = Turn("what did the interior minister say?", "what did the interior minister say? Gdańsk mayor",
                    topic="Gdańsk mayor")
    swapped = resolve("and the president?", _conversation(minister), idf)
    assert swapped.query == "what did the president say? Gdańsk mayor"
    star_wars = Turn("What happened with Star Wars?", "What happened with Star Wars?", people=("Mark Hamill",),
                     topic="Star Wars")
    assert resolve("what did he do next?", _conversation(star_wars), idf).query.startswith("what did Mark Hamill do")


def test_after_a_who_question_he_is_the_person_the_answer_named() -> None:
    """"who did he beat?" after "Who was elected Conservative leader in Britain?" searched without Boris Johnson, and
    "who replaced him?" after "Who resigned as governor of Puerto Rico?" searched "who replaced Puerto Rico?"."""
    answered = ("Conservative Party members voted on Tuesday to elect Boris Johnson — former Foreign Secretary — as "
                "the new leader.")
    assert people_in("Who was elected Conservative leader in Britain?", [], answered) == ("Boris Johnson",)
    assert people_in("What did the party say?", [], answered) == ()  # not asked who: only the quoted count
    rossello = "On Friday, Ricardo Rosselló Nevares resigned as the governor of Puerto Rico."
    assert people_in("Who resigned as governor of Puerto Rico?", [], rossello) == ("Ricardo Rosselló Nevares",)
    assert people_in("What did Theresa May say?", []) == ("Theresa May",)  # a month's name in a person's


def test_a_bare_question_word_asks_the_last_question_again_for_what_it_asks() -> None:
    """"when?", "why?", "by how much?" were searched alone and refused: a reader on a phone asks so all the time."""
    fled = _conversation(Turn("Did Sri Lanka's president flee?", "Did Sri Lanka's president flee?"))
    assert resolve("where to?", fled, idf).query == "Where did Sri Lanka's president flee?"
    assert resolve("by how much?", fled, idf).query == "By how much did Sri Lanka's president flee?"
    assert resolve("How come?", fled, idf).query == "Why did Sri Lanka's president flee?"
    landfall = _conversation(Turn("Where did Ian make landfall?", "Where did Ian make landfall?"))
    when = resolve("and when?", landfall, idf)
    assert (when.kind, when.query) == ("bare", "When? Where did Ian make landfall?")  # not "and X?" swapping in "when"
    # Asked after a bare question, it asks the question that one was asked of.
    where = Turn("where to?", "Where did Sri Lanka's president flee?")
    assert resolve("when?", _conversation(where), idf).query == "When did Sri Lanka's president flee?"
    assert resolve("what's new?", fled, idf).kind == "new"  # no question word: the newest briefs
    assert resolve("when did Geneva talks resume?", fled, idf).kind == "new"  # says something of its own
    assert resolve("when?", Conversation(), idf).kind == "new"


def test_and_another_time_asks_the_last_question_then() -> None:
    """"and last week?" after "What happened with monkeypox this week?" searched "What happened with?": the time phrase
    was swapped in for "monkeypox" and then read as time."""
    story = Turn("What happened with monkeypox this week?", "What happened with monkeypox?", story="monkeypox this week")
    again = resolve("and last week?", _conversation(story), idf)
    assert (again.kind, again.query) == ("window", "What happened with monkeypox last week?")  # the story, then
    asked = Turn("Did Liz Truss resign?", "Did Liz Truss resign?")
    assert resolve("what about in September?", _conversation(asked), idf).query == "Did Liz Truss resign in September?"
    assert resolve("and Rishi Sunak?", _conversation(asked), idf).query == "Did Rishi Sunak resign?"


def test_any_updates_asks_for_the_latest_on_the_topic_or_the_newest_briefs() -> None:
    """"any updates?" after "What happened with monkeypox?" listed the newest briefs on anything, and "updates?"
    was refused."""
    pox = _conversation(Turn("What happened with monkeypox?", "What happened with monkeypox?", topic="monkeypox"))
    for question in ("any updates?", "updates?", "anything new?", "What's the latest?", "any news on that?"):
        resolution = resolve(question, pox, idf)
        assert (resolution.kind, resolution.query) == ("update", "latest monkeypox"), question
    assert resolve("any updates?", Conversation(), idf).query == "What's new?"  # nothing asked yet: the digest
    assert resolve("what's new?", pox, idf).kind == "new"
    assert resolve("any updates on Lynas?", pox, idf).kind == "new"


def test_a_pronoun_carries_the_topic_not_every_word_of_the_last_question() -> None:
    """After "is she still in prison?", "where is she now?" searched "where is Brittney Griner now? still prison", and
    the words piled up turn after turn; "she" after "what did Biden's lawyers say?" became "the Biden lawyers"."""
    prison = Turn("is she still in prison?", "is Brittney Griner still in prison?", people=("Brittney Griner",),
                  topic="Brittney Griner")
    assert resolve("where is she now?", _conversation(prison), idf).query == "where is Brittney Griner now?"
    lawyers = Turn("what did Biden's lawyers say?", "what did Biden lawyers say?", people=("Brittney Griner",),
                   topic="Biden lawyers")
    assert resolve("how long is her sentence?", _conversation(lawyers), idf).query.startswith(
        "how long is Brittney Griner's sentence?")


def test_her_before_a_noun_owns_it_and_the_next_name_replaces_whoever_spoke() -> None:
    """"what did her lawyers say?" searched "what did Brittney Griner lawyers say?", and "and Biden?" after it asked what
    "Biden lawyers" said, dropping Griner."""
    griner = Turn("Is Brittney Griner still in prison?", "Is Brittney Griner still in prison?",
                  people=("Brittney Griner",), topic="Brittney Griner")
    lawyers = resolve("what did her lawyers say?", _conversation(griner), idf)
    assert lawyers.query == "what did Brittney Griner's lawyers say?"
    assert resolve("who attacked her?", _conversation(griner), idf).query == "who attacked Brittney Griner?"
    assert resolve("did they free her yesterday?", _conversation(griner), idf).query.startswith(
        "did they free Brittney Griner yesterday?")
    asked = Turn("what did her lawyers say?", lawyers.query, topic="Brittney Griner")
    biden = resolve("and Biden?", _conversation(asked), idf)
    assert (biden.kind, biden.query) == ("swap", "what did Biden say? Brittney Griner")
    # "and her lawyers?" searched "What happened with her lawyers?"; then "what about her wife?" replaces what was hers.
    story = Turn("What happened with Brittney Griner?", "What happened with Brittney Griner?", people=("Brittney Griner",),
                 topic="Brittney Griner")
    theirs = resolve("and her lawyers?", _conversation(story), idf)
    assert theirs.query == "What happened with Brittney Griner's lawyers?"
    after = Turn("and her lawyers?", theirs.query, people=("Brittney Griner",), topic="Brittney Griner")
    assert resolve("what about her wife?", _conversation(after), idf).query == "What happened with Brittney Griner's wife?"


def test_more_on_that_and_and_then_page_on_or_go_after_the_last_answer() -> None:
    """"more on that" searched "more on that Hurricane Ian" and showed the same passages again; "and then?" searched
    "What happened with then?"."""
    ian = _conversation(Turn("What happened with Hurricane Ian?", "What happened with Hurricane Ian?", k=3,
                             topic="Hurricane Ian"))
    for question in ("more on that", "what else?", "explain", "Tell me more about it", "more details please"):
        assert (resolve(question, ian, idf).kind, resolve(question, ian, idf).offset) == ("more", 3), question
    for question in ("and then?", "what happened next?"):
        assert resolve(question, ian, idf).kind == "after", question
    assert resolve("explain the sanctions", ian, idf).kind == "new"


def test_asking_for_the_link_asks_for_the_last_answers_sources() -> None:
    """"link please" was searched as a question and quoted "How to report an abusive user on Twitter"."""
    griner = _conversation(Turn("What happened with Brittney Griner?", "What happened with Brittney Griner?",
                                article_ids=("a1", "a2"), topic="Brittney Griner"))
    for question in ("source?", "sources", "link please", "what's the source?", "where is that from?",
                     "send me the link", "got a link?", "and the sources?"):
        resolution = resolve(question, griner, idf)
        assert (resolution.kind, resolution.previous) == ("sources", griner.last), question
    assert resolve("link?", Conversation(), idf).kind == "sources"  # nothing asked yet: the engine says how
    for question in ("link between lithium and cancer?", "sources say China will cut exports", "source code of the bill?"):
        assert resolve(question, griner, idf).kind != "sources", question
