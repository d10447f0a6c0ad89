"""Editing the glossary: checks, the file kept as written, and a running knowledge base
that takes a new concept up on its next query (fake encoder, no model)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb.errors import BadInputError, ConflictError, NotFoundError
from kb.glossary import load_glossary
from kb.glossary_edit import concept_edit, delete_concept, write_concept

from .conftest import CORPUS

CHURN = {"en": "churn, churn rate", "de": "Abwanderung, Abwanderungsrate",
         "ko": "이탈률", "vi": ["tỷ lệ rời bỏ"]}
CHURN_ARTICLE = (
    "Churn rate\n\n"
    "The churn rate is the share of subscribers who cancel in a month. Divide the "
    "cancellations of the month by the subscribers at its start to calculate the churn "
    "rate, and compare it with the months before."
)


@pytest.fixture
def gfile(tmp_path: Path) -> Path:
    path = tmp_path / "glossary.yaml"
    shutil.copy(CORPUS / "glossary.yaml", path)
    return path


def test_a_concept_is_checked_before_it_is_written():
    edit = concept_edit(None, CHURN)
    assert edit.id == "churn"  # from the first English term
    assert edit.terms["en"] == ["churn", "churn rate"] and edit.terms["vi"] == ["tỷ lệ rời bỏ"]
    assert concept_edit(None, {"de": "Kündigungsrate"}).id == "kuendigungsrate"
    assert concept_edit("x", {"en": "Churn, churn,  churn  "}).terms["en"] == ["Churn"]
    for terms, problem in (
        ({}, "at least one term"),
        ({"en": " , "}, "at least one term"),
        ({"fr": "churn"}, "unknown language 'fr'"),
        ({"en": "a" * 81}, "the limit is 80"),
        ({"en": "a\x00b"}, "control character"),
        ({"en": "---"}, "no letter or digit"),
        ({"en": [f"t{i}" for i in range(13)]}, "the limit is 12"),
    ):
        with pytest.raises(BadInputError, match=problem):
            concept_edit("churn", terms)
    for bad_id in ("Churn", "churn rate", "../x", "-x", "a" * 61):
        with pytest.raises(BadInputError, match="concept id"):
            concept_edit(bad_id, {"en": "churn"})


def test_writing_keeps_the_file_as_written(gfile: Path):
    before = gfile.read_text(encoding="utf-8")
    concept = write_concept(gfile, concept_edit(None, CHURN))
    after = gfile.read_text(encoding="utf-8")
    block = ("  - id: churn\n"
             "    names: {en: Churn, ko: 이탈률, de: Abwanderung, vi: Tỷ lệ rời bỏ}\n"
             "    terms:\n      en: [churn, churn rate]\n      ko: [이탈률]\n"
             "      de: [Abwanderung, Abwanderungsrate]\n      vi: [tỷ lệ rời bỏ]\n")
    # After the last concept, before the words' comments; the rest as it was.
    assert block in after and after.replace(block, "", 1) == before
    assert after.index(block) < after.index("\nwords:")
    assert concept.names["en"] == "Churn" and concept.terms["ko"] == ["이탈률"]
    glossary = load_glossary(gfile)
    assert [c.id for c in glossary.match("Wie hoch ist die Abwanderungsrate?")] == ["churn"]
    # Replaced in place, then removed: the file is byte for byte what it was.
    write_concept(gfile, concept_edit("churn", {"en": "churn"}), replace=True)
    assert load_glossary(gfile).match("Abwanderungsrate") == []
    assert delete_concept(gfile, "churn").id == "churn"
    assert gfile.read_text(encoding="utf-8") == before


def test_clashes_are_refused_and_change_nothing(gfile: Path):
    before = gfile.read_text(encoding="utf-8")
    with pytest.raises(ConflictError, match="has a concept 'kpi' already"):
        write_concept(gfile, concept_edit("kpi", {"en": "key results"}))
    with pytest.raises(ConflictError, match="term 'kpi' belongs to the concept 'kpi'"):
        write_concept(gfile, concept_edit("okr", {"en": "OKR, kpi"}))
    with pytest.raises(NotFoundError, match="no concept 'churn' to replace"):
        write_concept(gfile, concept_edit("churn", {"en": "churn"}), replace=True)
    with pytest.raises(NotFoundError, match="no concept 'churn'"):
        delete_concept(gfile, "churn")
    word = next(c.id for c in load_glossary(gfile).concepts if c.kind == "word")
    with pytest.raises(ConflictError, match="not a concept"):
        delete_concept(gfile, word)
    gfile.write_text(before + "concepts: [\n", encoding="utf-8")  # a hand edit gone wrong
    with pytest.raises(Exception, match="not valid YAML"):
        write_concept(gfile, concept_edit(None, CHURN))
    assert gfile.read_text(encoding="utf-8") == before + "concepts: [\n"


def test_a_running_knowledge_base_takes_a_new_concept_up_at_once(lib):
    """QA13: a German question on a new English article found nothing in English until
    the glossary named the topic in both languages, and the server read the glossary
    only at start. Now a concept counts from the next query."""
    from kb.articles import parse_article

    lib.ingest([parse_article(CHURN_ARTICLE.encode(), name="churn-rate.txt")])
    question = "Wie berechnet man die Abwanderungsrate?"
    def churn_hits() -> list:
        return [h for h in lib.search(question, k=5).hits if h.article_id == "churn-rate"]

    assert all("bm25_en" not in h.signals for h in churn_hits())
    write_concept(lib.glossary_path, concept_edit(None, CHURN))
    assert churn_hits() and all("bm25_en" in h.signals for h in churn_hits())
    # A hand edit that does not parse leaves the glossary in use, and says why.
    path = lib.glossary_path
    good = path.read_text(encoding="utf-8")
    path.write_text(good + "concepts: [\n", encoding="utf-8")
    assert churn_hits()
    assert lib.glossary_problem and "not valid YAML" in lib.glossary_problem
    delete_concept_text = good.replace(good[good.index("  - id: churn\n"):
                                            good.index("      vi: [tỷ lệ rời bỏ]\n") + 25], "")
    path.write_text(delete_concept_text, encoding="utf-8")
    assert not any(c.card for c in lib.glossary.match(question))
    assert lib.glossary_problem is None


@pytest.fixture
def lib(tmp_path, fake_kb_dir, fake_encoder):
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    shutil.copytree(fake_kb_dir, index)
    kb = KnowledgeBase.open(index, settings=Settings(index_dir=index, corpus_dir=corpus,
                                                     model="fake"), encoder=fake_encoder)
    yield kb
    kb.close()


RETENTION = (
    "# Customer retention basics\n\n"
    "Customer retention is the set of activities a company uses to keep existing customers "
    "buying. Acquiring a new customer costs five to seven times more than keeping one.\n\n"
    "## The churn rate\n\n"
    "The churn rate is the percentage of customers who stop buying from you during a given "
    "period. To calculate it, divide the number of customers lost during the period by the "
    "number of customers at the start of the period.\n\n"
    "## Measuring success\n\n"
    "Track the retention rate, the churn rate and customer lifetime value every month.\n"
)


@pytest.mark.model
def test_a_concept_carries_a_question_to_a_new_article_in_another_language(
        tmp_path, real_encoder):
    """QA13's case, with the real model: an English article on churn is added, and a
    Vietnamese question on it gets "no good answer" (its words occur in no English
    passage). Once the glossary names churn in Vietnamese too, it is answered from the
    English article, with no restart and no reindex."""
    from kb.articles import parse_article
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = Settings(index_dir=tmp_path / "index", corpus_dir=corpus)
    kb = KnowledgeBase.open(settings.index_dir, settings=settings, encoder=real_encoder)
    try:
        kb.ingest_paths([corpus])
        kb.ingest([parse_article(RETENTION.encode(), name="retention.md")])
        question = "Tỷ lệ rời bỏ được tính thế nào?"
        assert not kb.ask(question).found
        write_concept(kb.glossary_path, concept_edit(None, {
            "en": "churn rate, churn", "de": "Abwanderungsrate, Abwanderung",
            "ko": "이탈률, 고객 이탈", "vi": "tỷ lệ rời bỏ, rời bỏ"}))
        for asked in (question, "Wie berechnet man die Abwanderungsrate?"):
            # (The German one leans on the glossary's question word "berechnen" too,
            # which no English passage can show.)
            answer = kb.ask(asked)
            assert answer.found and answer.citations[0].hit.article_id == "retention"
            assert "percentage of customers who stop buying" in answer.sentences[0].text
    finally:
        kb.close()


def test_names_read_like_the_cards_and_terms_can_be_added_to_a_concept(gfile: Path):
    """QA14 wrote 43 concepts with `kb concepts`: their cards were named in lower case
    ("double opt-in"), a second language meant retyping every term, and of several
    taken terms only the first was named."""
    concept = write_concept(gfile, concept_edit(None, {"en": "double opt-in", "ko": "더블 옵트인",
                                                       "vi": "xác nhận kép"}))
    assert concept.names == {"ko": "더블 옵트인", "en": "Double opt-in", "de": "",
                             "vi": "Xác nhận kép"}
    more = write_concept(gfile, concept_edit("double-opt-in", {"de": "Double-Opt-in",
                                                               "en": "confirmed opt-in"}),
                         extend=True)
    assert more.terms["en"] == ["double opt-in", "confirmed opt-in"]
    assert more.terms["de"] == ["Double-Opt-in"] and more.terms["ko"] == ["더블 옵트인"]
    assert more.names["en"] == "Double opt-in"
    with pytest.raises(NotFoundError, match="no concept 'opt-out' to extend"):
        write_concept(gfile, concept_edit("opt-out", {"en": "opt-out"}), extend=True)
    with pytest.raises(ConflictError) as err:
        write_concept(gfile, concept_edit("x", {"en": "KPI, upselling, example"}))
    message = str(err.value)
    assert "'KPI' belongs to the concept 'kpi'" in message
    assert "'upselling' belongs to the concept 'upselling'" in message
    assert "'example' belongs to the glossary's question word 'example'" in message


def test_edits_do_not_pile_up_korean_analyses_in_the_cache(gfile: Path, tmp_path: Path):
    from kb.glossary import KEPT_ANALYSES

    cache = tmp_path / "cache"
    for i in range(KEPT_ANALYSES + 3):
        write_concept(gfile, concept_edit(f"c{i}", {"ko": f"테스트 개념 {i}번"}))
        assert load_glossary(gfile, cache_dir=cache).match(f"테스트 개념 {i}번이란?")
    assert len(list((cache / "glossary").glob("ko-*.json"))) == KEPT_ANALYSES


def test_editing_a_concepts_terms_keeps_its_display_names(gfile: Path):
    """Editing a card's terms on the Concepts page (which sends terms only) renamed
    "KPIs (key performance indicators)" to "KPI"."""
    kpi = next(c for c in load_glossary(gfile).concepts if c.id == "kpi")
    terms = {lang: ", ".join(kpi.terms[lang]) for lang in ("en", "ko", "de", "vi")}
    write_concept(gfile, concept_edit("kpi", {**terms, "en": terms["en"] + ", OKR"}),
                  replace=True)
    again = next(c for c in load_glossary(gfile).concepts if c.id == "kpi")
    assert again.names == kpi.names and again.terms["en"][-1] == "OKR"
    # A new first term is a new name.
    write_concept(gfile, concept_edit("kpi", {**terms, "en": "key metric, KPI"}), replace=True)
    assert next(c for c in load_glossary(gfile).concepts if c.id == "kpi").names["en"] == (
        "Key metric")


def test_terms_yaml_would_read_otherwise_come_back_as_written(gfile: Path):
    """QA15: the file is written as YAML 1.2 (ruamel) and read as YAML 1.1 (PyYAML), so
    `no`, `on` and `Yes` came back as booleans and `9:30` as 570; a concept with the id
    `no` was listed as "False" and could be neither removed nor replaced."""
    write_concept(gfile, concept_edit("no", {"en": "on, 24:7 support", "vi": "no",
                                             "de": "Yes, 9:30, 'quoted'"}))
    concept = next(c for c in load_glossary(gfile).concepts if c.id == "no")
    assert concept.terms == {"ko": [], "en": ["on", "24:7 support"], "de": ["Yes", "9:30",
                                                                          "'quoted'"],
                             "vi": ["no"]}
    assert concept.names["en"] == "On" and concept.names["vi"] == "No"
    write_concept(gfile, concept_edit("no", {"en": "on"}), replace=True)
    assert delete_concept(gfile, "no").id == "no"
    assert "no" not in {c.id for c in load_glossary(gfile).concepts}


def test_markup_in_a_term_is_refused_and_korean_only_concepts_get_ids():
    """QA15: a term of markup was saved, and the Concepts page's search for it failed
    ("the query is empty"), a 400 for the whole page; and every Korean-only concept got
    the id "concept", so the second clashed with the first."""
    for bad in ({"en": "<script>alert(1)</script>"}, {"de": "a <b> b"}):
        with pytest.raises(BadInputError, match="plain text"):
            concept_edit(None, bad)
    first = concept_edit(None, {"ko": "바이럴 마케팅"}).id
    second = concept_edit(None, {"ko": "인플루언서 마케팅"}).id
    assert first.startswith("concept-") and second.startswith("concept-") and first != second


@pytest.mark.parametrize("broken", [
    "concepts:\n  - terms:\n      en: [no id term]\n",        # no id
    "concepts:\n  - id: strt\n    terms: hello\n",            # terms not a mapping
    "concepts:\n  - just a string\n",                         # an entry that is a string
    "concepts: {foo: bar}\n",                                 # not a list
    "concepts:\n  - id: kpi\n    terms: {en: [okr]}\n  - id: kpi\n    terms: {en: [x]}\n",
])
def test_a_hand_edit_of_the_wrong_shape_keeps_the_glossary_in_use(lib, broken):
    """QA15: valid YAML of the wrong shape (an entry without id, `terms: hello`) raised
    KeyError or AttributeError, and every search, ask and the Concepts page answered 500
    until the file was fixed; an edit meanwhile was a 500 too."""
    question = "Welche KPIs gibt es?"
    assert [c.id for c in lib.glossary.match(question) if c.card] == ["kpi"]
    lib.glossary_path.write_text(broken, encoding="utf-8")
    assert [c.id for c in lib.glossary.match(question) if c.card] == ["kpi"]
    assert lib.glossary_problem and "glossary" in lib.glossary_problem
    assert lib.search(question, k=3).hits
    with pytest.raises(Exception) as err:
        write_concept(lib.glossary_path, concept_edit(None, {"en": "churn"}))
    assert getattr(err.value, "status", None) == 409


def test_a_hand_written_term_list_without_brackets_is_read_as_terms(gfile: Path):
    """QA15: `en: hello world, hi there` was read as 21 one-character terms."""
    gfile.write_text("concepts:\n  - id: greeting\n    terms:\n      en: hello world, hi "
                     "there\n", encoding="utf-8")
    concept = load_glossary(gfile).concepts[0]
    assert concept.terms["en"] == ["hello world", "hi there"]
    assert concept.names["en"] == "hello world"


def test_extending_keeps_the_preferred_term_and_odd_forms_are_folded(gfile: Path):
    """QA15: --extend with a term the concept had moved its first term down the list; a
    full-width "ＫＰＩ" or a ligature "ﬁ" was kept as typed and matched no question; a
    comma inside a term was split in two by the next save from the edit form."""
    write_concept(gfile, concept_edit("churn", {"en": "churn rate, churn"}))
    more = write_concept(gfile, concept_edit("churn", {"en": "churn, attrition"}), extend=True)
    assert more.terms["en"] == ["churn rate", "churn", "attrition"]
    assert concept_edit(None, {"en": "ＣＬＶ ﬁgure"}).terms["en"] == ["CLV figure"]
    with pytest.raises(ConflictError, match="'KPI' belongs to the concept 'kpi'"):
        write_concept(gfile, concept_edit("okr", {"en": ["OKR", "ＫＰＩ"]}))
    with pytest.raises(BadInputError, match="holds a comma"):
        concept_edit(None, {"en": ["churn, rate"]})


def test_a_removed_concept_is_kept_beside_the_glossary(gfile: Path):
    """QA15: a removed article's file goes to .removed/, a removed concept was gone."""
    import yaml

    from kb.glossary_edit import REMOVED_FILE

    before = next(c for c in load_glossary(gfile).concepts if c.id == "bundling")
    delete_concept(gfile, "bundling")
    kept = yaml.safe_load((gfile.parent / REMOVED_FILE).read_text(encoding="utf-8"))
    assert [x["id"] for x in kept] == ["bundling"]
    assert kept[0]["terms"]["de"] == before.terms["de"]
    delete_concept(gfile, "upselling")  # appended, not overwritten
    kept = yaml.safe_load((gfile.parent / REMOVED_FILE).read_text(encoding="utf-8"))
    assert [x["id"] for x in kept] == ["bundling", "upselling"]
