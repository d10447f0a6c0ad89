"""QA19 F8: what an answer says of its languages, above it, on the page, API and CLI."""

from __future__ import annotations

import json

import pytest

# On the fake index as on the real one, an English bundling question gets Korean only.
FOREIGN = "what is bundling"
# Vietnamese in English words (as restored from "upstream marketing la gi"): the answer
# quotes no Vietnamese, though the Vietnamese article names the concept.
MIXED = "upstream marketing là gì"


def test_a_foreign_answer_says_what_is_true_of_the_askers_language(fake_kb):
    langs = fake_kb.ask(FOREIGN).languages
    assert langs.lang == "en" and langs.own == 0 and langs.foreign
    assert langs.quoted == (("ko", 5),)
    assert langs.summary == "In Korean: no English sentence in this answer."
    assert "none in" not in langs.text
    [bridge] = langs.bridges
    assert bridge.concept_id == "bundling"
    assert dict(bridge.names) == {"ko": "번들링", "en": "Bundling", "de": "Bündelung",
                                  "vi": "Bán theo gói"}
    # No English article names bundling: said so, and no question offered.
    assert not bridge.own and bridge.ask is None
    assert langs.text.endswith("No English article names Bundling yet.")


def test_a_label_does_not_hide_the_askers_language_articles(fake_kb):
    """QA19 F8: "upstream marketing la gi" said "none in Vietnamese", but the Vietnamese
    article defines upstream marketing ("Tiếp thị ngược dòng là gì?" quotes it)."""
    ans = fake_kb.ask(MIXED)
    langs = ans.languages
    assert ans.lang == "vi" and langs.own == 0 and "vi" not in dict(langs.quoted)
    assert langs.summary.endswith("no Vietnamese sentence in this answer.")
    [bridge] = langs.bridges
    assert bridge.concept_id == "upstream-marketing" and bridge.own
    assert bridge.ask == "Tiếp thị ngược dòng là gì?"
    assert "Vietnamese articles do name Tiếp thị ngược dòng: ask “Tiếp thị ngược dòng là gì?”" \
        in langs.text


@pytest.mark.model
def test_the_offered_question_quotes_the_askers_language(real_kb):
    """As typed in the audit, without diacritics: search ranks the Vietnamese passages
    15th and 16th for its English words, under the eight an answer reads, so the
    answer quotes the German twin of the Vietnamese definition. The label offers the
    question that quotes it."""
    ans = real_kb.ask("upstream marketing la gi")
    assert ans.restored == MIXED and ans.languages.own == 0
    [bridge] = ans.languages.bridges
    assert bridge.own and bridge.ask == "Tiếp thị ngược dòng là gì?"
    asked = real_kb.ask(bridge.ask)
    assert asked.languages.own >= 1
    assert "Tiếp thị ngược dòng tập trung vào sự đổi mới." in [s.text for s in asked.sentences]


@pytest.mark.model
def test_no_question_is_offered_whose_answer_is_the_same(real_kb):
    """QA25 F11: "What is a KPI?" was offered "What does ‘KPI’ mean?", whose answer led
    with the same Korean sentence. The English articles that name KPIs are still said;
    the dead-end question is not offered."""
    ans = real_kb.ask("What is a KPI?")
    [bridge] = [b for b in ans.languages.bridges if b.concept_id == "kpi"]
    assert bridge.own and bridge.ask is None
    assert ans.languages.text.endswith("English articles do name KPIs (key performance "
                                       "indicators).")
    assert "ask “" not in ans.languages.text


def test_an_answer_in_the_askers_language_has_no_bridge(fake_kb):
    langs = fake_kb.ask("What is upstream marketing?").languages
    assert not langs.foreign and langs.bridges == () and langs.summary == "In English."
    assert fake_kb.ask("번들링이란?").languages.summary == "In Korean."


def test_no_answer_has_no_languages(fake_kb):
    ans = fake_kb.ask("asdf qwerty zxcv")
    assert not ans.found and ans.languages is None and ans.to_dict()["languages"] is None


def test_the_page_says_the_languages_above_the_answer_with_the_concepts_terms(client):
    page = client.get("/", params={"q": FOREIGN}).text
    label, answer = page.index('id="answer-langs"'), page.index('class="answer-text"')
    assert label < answer, "the language label comes before the foreign text"
    box = page[label:answer]
    assert 'class="answer-langs foreign"' in page
    assert "In Korean: no English sentence in this answer." in box
    for lang, name in [("en", "Bundling"), ("ko", "번들링"), ("de", "Bündelung"),
                       ("vi", "Bán theo gói")]:
        assert f'<span class="bridge-name" lang="{lang}" title=' in box and name in box
    assert box.index("Bundling") < box.index("번들링")  # the asker's language first
    assert '<a class="bridge-card" href="/concepts#c-bundling">' in box
    assert "No English article names it yet." in box
    assert "none in" not in page


def test_the_page_links_the_question_in_the_askers_language(client):
    page = client.get("/", params={"q": MIXED}).text
    box = page[page.index('id="answer-langs"'):page.index('class="answer-text"')]
    assert ('<a class="bridge-ask" href="/?q=Ti%E1%BA%BFp+th%E1%BB%8B+ng%C6%B0%E1%BB%A3c'
            '+d%C3%B2ng+l%C3%A0+g%C3%AC%3F">Ask in Vietnamese: <q lang="vi">'
            'Tiếp thị ngược dòng là gì?</q></a>') in box
    assert "No Vietnamese article" not in box


def test_an_own_language_answer_has_a_plain_label(client):
    page = client.get("/", params={"q": "What is upstream marketing?"}).text
    assert '<div class="answer-langs" id="answer-langs">' in page
    assert 'class="bridge"' not in page


def test_the_api_and_the_cli_give_the_pages_languages(client, run):
    from web import schemas

    api = client.get("/api/ask", params={"q": MIXED}).json()
    schemas.AskOut.model_validate(api)
    res = run("ask", "--json", MIXED)
    assert res.exit_code == 0, res.output
    cli = json.loads(res.output)
    assert api["languages"] == cli["languages"]
    langs = api["languages"]
    assert langs["own"] == 0 and langs["foreign"]
    assert langs["bridges"][0]["ask"] == "Tiếp thị ngược dòng là gì?"
    assert {"lang": "vi", "name": "Tiếp thị ngược dòng"} in langs["bridges"][0]["names"]


def test_the_cli_says_the_languages_before_the_answer(run):
    res = run("ask", FOREIGN)
    assert res.exit_code == 0, res.output
    out = res.output
    said = out.index("languages: In Korean: no English sentence in this answer.")
    assert said < out.index("번들링은")
    # The asker's own name first, as on the Ask page.
    assert "Bundling = 번들링 = Bündelung = Bán theo gói  (kb concepts show bundling)" in out


def test_an_article_added_in_the_askers_language_is_seen(fake_kb):
    """What _named_in found is kept per index version: an English article on bundling,
    once added, is named by the English bridge. (The English question is not offered:
    on the fake index its answer still opens with the Korean definition, and an offer
    stands only when its answer opens in the asker's language, QA25 F11.)"""
    from kb.answer_lang import describe_languages as describe
    from kb.articles import parse_article

    [before] = describe(fake_kb, FOREIGN, "en", ["ko"] * 5).bridges
    assert not before.own
    text = ("---\ntitle: Bundling basics\n---\nBundling sells several products together as "
            "one package at a lower price. Bundling helps clear slow stock.\n")
    assert fake_kb.ingest([parse_article(text, name="bundling-basics.txt", lang="en")]).added
    after = describe(fake_kb, FOREIGN, "en", ["ko"] * 5)
    assert after.bridges[0].own and after.bridges[0].ask is None
    assert after.text.endswith("English articles do name Bundling.")


@pytest.mark.parametrize(("question", "lang", "says"), [
    # The card's own question, as asked: nothing to offer (QA22 F3: the link was the page).
    ("Tiếp thị ngược dòng là gì?", "vi", None),
    # The same question with other quotation marks (the cards' German links).
    ("Was bedeutet ‚Upstream-Marketing‘?", "de", None),
    # Another kind of question is not offered a definition question instead.
    ("Welche Beispiele gibt es für Upstream-Marketing?", "de",
     "German articles do name Upstream-Marketing."),
])
def test_the_question_asked_is_not_offered_again_nor_one_of_another_kind(
        fake_kb, question, lang, says):
    from kb import concepts
    from kb.answer_lang import describe_languages as describe

    langs = describe(fake_kb, question, lang, ["en"] * 3 + [lang] * 2)
    [bridge] = langs.bridges
    concept = next(c for c in fake_kb.glossary.cards if c.id == "upstream-marketing")
    assert bridge.own and concepts.question(concept, lang) is not None
    assert bridge.ask is None, bridge
    assert "ask “" not in langs.text
    assert langs.text.endswith(says) if says else langs.text == langs.summary
