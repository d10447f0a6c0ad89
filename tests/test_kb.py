"""The KnowledgeBase facade with the fake encoder: ingest, search, manifest, errors."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from kb.articles import parse_article
from kb.core import KnowledgeBase
from kb.encoder import FakeEncoder
from kb.errors import BadInputError, IndexMismatchError, NotFoundError
from kb.sentences import sentence_spans
from kb.settings import Settings


def test_hits_are_exact_slices_of_the_article(fake_kb):
    res = fake_kb.search("cross-selling KPI", k=5)
    assert res.hits
    for h in res.hits:
        text = fake_kb.article(h.article_id)["text"]
        assert text[h.start : h.end] == h.text
        assert h.lang in ("ko", "en", "de", "vi") and h.title and h.chunk_id > 0


def test_manifest_describes_the_index(fake_kb):
    m = json.loads((fake_kb.index_dir / "manifest.json").read_text())
    assert m["model"] == {
        "id": "fake", "fingerprint": "fake-v1", "dim": 64, "encoder_backend": "fake"}
    assert m["chunker_version"] >= 1
    assert set(m["articles"]) == {a["id"] for a in fake_kb.articles()}
    for entry in m["articles"].values():
        assert len(entry["content_sha256"]) == 64 and entry["chunks"] > 0


def _full_manifest_articles(rows) -> dict:
    return {
        r["id"]: {"title": r["title"], "lang": r["lang"],
                  "content_sha256": r["content_sha256"], "chunks": r["n_chunks"]}
        for r in rows
    }


def test_manifest_patched_per_write_matches_a_full_listing(fake_kb, fake_encoder, monkeypatch):
    """Writes patch the previous manifest's article list; it must stay what listing every
    article gives, also when another process wrote the version before."""
    other = KnowledgeBase.open(fake_kb.index_dir, settings=fake_kb.settings, encoder=fake_encoder)
    full_listings = []
    listing = fake_kb.store.articles

    def counting(*args, **kwargs):
        if kwargs.get("ids") is None:
            full_listings.append(1)
        return listing(*args, **kwargs)

    monkeypatch.setattr(fake_kb.store, "articles", counting)

    def manifest() -> dict:
        return json.loads((fake_kb.index_dir / "manifest.json").read_text())

    text = "Value-based pricing starts from what the customer is willing to pay. " * 8
    a = parse_article("# Alpha\n\n" + text, name="alpha.md")
    b = parse_article("# Beta\n\nRetail partners extend the reach of every brand. " + text,
                      name="beta.md")
    fake_kb.ingest([a, b])
    fake_kb.ingest([parse_article(a.text + "\n\nMore on alpha.", name="alpha.md")])
    other.ingest([parse_article("# Gamma\n\nDiscounts reward loyal buyers. " + text,
                                name="gamma.md")])
    fake_kb.remove("beta")  # after another process's write: patches the manifest on disk
    m = manifest()
    assert m["version"] == fake_kb.store.version
    assert not full_listings
    assert m["articles"] == _full_manifest_articles(listing())
    assert list(m["articles"]) == sorted(m["articles"])
    assert {"alpha", "gamma"} <= set(m["articles"]) and "beta" not in m["articles"]
    other.close()


def test_reingest_unchanged_corpus_embeds_nothing(fake_kb):
    from .conftest import CORPUS

    report = fake_kb.ingest_paths([CORPUS])
    assert report.chunks_embedded == 0 and len(report.unchanged) == 5
    assert not report.added and not report.updated


def test_changed_article_reuses_vectors_of_unchanged_chunks(fake_kb):
    art = parse_article(
        "# Pricing\n\nValue-based pricing starts from the customer.\n\n# Channels\n\n"
        + "Retail partners extend reach. " * 30,
        name="pricing.md",
    )
    first = fake_kb.ingest([art])
    assert first.added == ["pricing"]
    changed = parse_article(art.text + "\n\n# Wrap-up\n\nA new closing section.", name="pricing.md")
    second = fake_kb.ingest([changed])
    assert second.updated == ["pricing"]
    assert 0 < second.chunks_embedded < len(fake_kb.store.article_chunks("pricing"))


def test_a_one_sentence_chunk_is_not_embedded_twice(tmp_path):
    """Its sentence is its text: the chunk's vector serves as the sentence's."""
    kb = KnowledgeBase.open(tmp_path, settings=Settings(index_dir=tmp_path), encoder=FakeEncoder())
    long_sentence = "Cross-selling offers " + " ".join(["related products"] * 120) + "."
    text = f"{long_sentence}\n\nUpselling sells a better version. It raises the order value."
    report = kb.ingest([parse_article(text, name="notes.md")])
    chunks = kb.store.article_chunks("notes")
    rows = kb.store.conn.execute("SELECT chunk_id FROM sentences").fetchall()
    one = [c for c in chunks if sum(r["chunk_id"] == c.id for r in rows) == 1]
    assert [c.text for c in one] == [long_sentence]  # a chunk of its own
    assert len(rows) == 3 and report.sentences_embedded == 2
    sentence_vectors = kb.store.sentence_vectors_by_text("notes")
    chunk_vectors = kb.store.chunk_vectors_by_text("notes")
    assert (sentence_vectors[long_sentence] == chunk_vectors[long_sentence]).all()
    kb.close()


def test_centring_and_own_language_bm25_follow_the_library(tmp_path):
    """Dense scores remove 1 - (1 - center) / n of each language's mean, n the fewest
    articles of the searched languages: .75 while some language has one article (the
    seeds), towards all of it as every language gets articles of its own."""
    kb = KnowledgeBase.open(tmp_path, settings=Settings(index_dir=tmp_path), encoder=FakeEncoder())
    texts = {
        "en-a": ("en", "Churn falls when onboarding emails reach new customers early."),
        "en-b": ("en", "Pricing pages convert better with three plans and an anchor."),
        "de-a": ("de", "Newsletter brauchen eine Einwilligung und einen klaren Betreff."),
        "de-b": ("de", "Messen lohnen sich, wenn Kontakte binnen drei Tagen betreut werden."),
    }
    kb.ingest([parse_article(f"---\nlang: {lang}\n---\n{text}", name=f"{i}.md")
               for i, (lang, text) in texts.items()])
    kb.search("churn")  # loads the indexes
    assert kb.centring(["en", "de"], 0.75) == pytest.approx(0.875)
    kb.ingest([parse_article("---\nlang: vi\n---\nTiếp thị nội dung cần lịch đăng bài đều đặn.",
                             name="vi-a.md")])
    kb.search("churn")
    assert kb.centring(["en", "de", "vi"], 0.75) == pytest.approx(0.75)
    assert kb.centring(["en", "de"], 0.75) == pytest.approx(0.875)  # a language filter
    assert kb.centring(["en", "de"], 0.0) == 0.0  # raw cosine stays raw
    # BM25 in the question's language counts in full while a language has one article;
    # with two each, English has half the articles: 1 - (1 - 1/2) * (1 - 1/2).
    assert kb.own_lexical_scale("en", ["en", "de", "vi"]) == 1.0
    assert kb.own_lexical_scale("en", ["en", "de"]) == pytest.approx(0.75)
    assert kb.own_lexical_scale("en", ["en"]) == 1.0  # one language: in full
    kb.close()


def test_language_filter(fake_kb):
    res = fake_kb.search("marketing", k=10, langs=["de"])
    assert res.hits and {h.lang for h in res.hits} == {"de"}
    with pytest.raises(BadInputError, match="unknown language"):
        fake_kb.search("marketing", langs=["xx"])


EN = "en-upstream-vs-downstream-marketing"
KO_CROSS = "ko-cross-selling-existing-customers"
SALES_ALIGNMENT = {"de-upstream-downstream-marketingleiter", "vi-thuong-nguon-ha-nguon-tiep-thi"}


def test_tag_and_article_filters_choose_inside_the_candidates(fake_kb):
    """QA21 F7: search could not be limited to a tag or an article. The filter works
    inside the candidate lists, as the language filter does: with 5 candidates a
    retriever, a Korean question's own have no English passage, and a filter to the
    English article still gets 5 of its passages, not none."""
    kb = fake_kb
    kb.search_config = dataclasses.replace(kb.search_config, candidates=5)
    q = "업셀링이란 무엇인가요?"
    assert EN not in {h.article_id for h in kb.search(q, k=5).hits}
    hits = kb.search(q, k=5, articles=[EN]).hits
    assert len(hits) == 5 and {h.article_id for h in hits} == {EN}
    # Tags as the Library matches them: any of several, whatever their case.
    hits = kb.search(q, k=8, tags=["SALES alignment"]).hits
    assert len(hits) == 8 and {h.article_id for h in hits} == SALES_ALIGNMENT
    hits = kb.search(q, k=8, tags=["sales alignment", "kpi"]).hits
    assert {h.article_id for h in hits} <= SALES_ALIGNMENT | {KO_CROSS}
    # Both: an article must pass both (and languages, as before).
    hits = kb.search(q, k=5, tags=["strategy"], articles=[EN, KO_CROSS], langs=["en"]).hits
    assert hits and {h.article_id for h in hits} == {EN}


def test_a_filtered_search_pages_and_judges_its_own_passages(fake_kb):
    """Paging, `more` and `found` are about the passages the filter keeps."""
    n = len(fake_kb.article(EN)["chunks"])
    whole = fake_kb.search("marketing", k=n, articles=[EN], translations="keep")
    assert len(whole.hits) == n and not whole.more
    first = fake_kb.search("marketing", k=4, articles=[EN], translations="keep")
    rest = fake_kb.search("marketing", k=n - 4, offset=4, articles=[EN], translations="keep")
    assert first.more and not rest.more
    assert [h.chunk_id for h in first.hits + rest.hits] == [h.chunk_id for h in whole.hits]
    # The answer is in the Korean article: the English one alone does not answer it.
    q = "What is upselling?"
    assert fake_kb.search(q, k=5, explain=True).found is True
    assert fake_kb.search(q, k=5, explain=True, tags=["upselling"]).found is True
    assert fake_kb.search(q, k=5, explain=True, articles=[EN]).found is False
    assert fake_kb.ask(q, articles=[EN]).found is False
    ans = fake_kb.ask(q, tags=["Upselling"])
    assert ans.found and {c.hit.article_id for c in ans.citations} == {KO_CROSS}
    miss = fake_kb.ask(q, articles=[EN])
    # Which article answers it without the filter, and to ask again so (QA22 F7).
    assert miss.message.startswith(f"No good answer in the chosen articles ({EN}), but ")
    assert f"({KO_CROSS}) answers it: ask again without the article filter." in miss.message


def test_a_new_articles_tags_filter_at_once(fake_kb):
    """The tags are kept between searches (the Ask page lists them on every visit)
    until the next write."""
    assert "pricing" not in fake_kb.tags() and "sales alignment" in fake_kb.tags()
    with pytest.raises(BadInputError):
        fake_kb.search("price anchors", tags=["Pricing"])
    text = ("---\ntitle: Price anchors\ntags: [pricing]\n---\n"
            "A price anchor is the first price shown.")
    fake_kb.ingest([parse_article(text, name="price-anchors.md", lang="en")])
    assert "pricing" in fake_kb.tags()
    hits = fake_kb.search("price anchors", tags=["Pricing"]).hits
    assert hits and {h.article_id for h in hits} == {"price-anchors"}


@pytest.mark.parametrize(("kw", "message"), [
    ({"tags": ["pricing"]}, "no article is tagged 'pricing'; the tags are: "),
    ({"tags": ["kpi", "pricing", "b2b"]}, "no article is tagged 'pricing' or 'b2b'; "),
    ({"articles": ["en-upstream-vs-downstream"]},
     "no article with id 'en-upstream-vs-downstream'; did you mean 'en-upstream-vs-"),
    ({"articles": ["zzz"]}, "no article with id 'zzz' (`kb list` or GET /api/articles"),
    ({"tags": ["kpi"], "articles": [EN]}, f"none of the articles '{EN}' is tagged 'kpi'"),
])
def test_an_unknown_tag_or_article_is_an_error_not_an_empty_result(fake_kb, kw, message):
    for call in (fake_kb.search, fake_kb.ask):
        with pytest.raises(BadInputError) as caught:
            call("upselling", **kw)
        assert caught.value.message.startswith(message), caught.value.message
    if "tags are" in message:  # the tags there are, to pick from
        assert "sales alignment" in str(caught.value.message)


@pytest.mark.parametrize("query", ["", "   ", "x" * 501])
def test_bad_queries_are_clear_errors(fake_kb, query):
    with pytest.raises(BadInputError):
        fake_kb.search(query)


def test_query_language_override(fake_kb):
    assert fake_kb.search("Marketing", query_lang="de").lang == "de"


def test_remove_deletes_vectors_terms_and_metadata(fake_kb):
    aid = "de-upstream-downstream-marketingleiter"
    fake_kb.remove(aid)
    assert aid not in {a["id"] for a in fake_kb.articles()}
    assert all(
        h.article_id != aid for h in fake_kb.search("Upstream-Marketing Vertrieb", k=20).hits
    )
    with pytest.raises(NotFoundError):
        fake_kb.remove(aid)


def test_model_mismatch_names_the_rebuild_command(fake_kb_dir):
    with pytest.raises(IndexMismatchError, match="kb --index .* reindex"):
        KnowledgeBase.open(fake_kb_dir, settings=Settings(index_dir=fake_kb_dir, model="other"))
    other = FakeEncoder(dim=32)
    other.fingerprint = "fake-v1-dim32"
    with pytest.raises(IndexMismatchError, match="different weights"):
        KnowledgeBase.open(fake_kb_dir, settings=Settings(index_dir=fake_kb_dir), encoder=other)


def test_second_reader_sees_new_writes(fake_kb):
    reader = KnowledgeBase.open(
        fake_kb.index_dir, settings=fake_kb.settings, encoder=fake_kb.encoder
    )
    before = reader.search("zebra giraffe savanna", k=3)
    fake_kb.ingest(
        [parse_article("Zebra and giraffe marketing on the savanna is unusual.", name="zoo.txt")]
    )
    after = reader.search("zebra giraffe savanna", k=3)
    assert after.hits[0].article_id == "zoo"
    assert before.hits[0].article_id != "zoo"
    reader.close()


def test_a_writer_behind_another_process_starts_from_its_published_indexes(fake_kb,
                                                                          monkeypatch):
    """Another process wrote since this one loaded the indexes: the write starts from
    what that process published, reading only its own new chunks from the database."""
    other = KnowledgeBase.open(fake_kb.index_dir, settings=fake_kb.settings,
                               encoder=fake_kb.encoder)
    fake_kb.search("warm")
    other.ingest([parse_article("Zebra marketing for giraffes on the savanna. " * 9,
                                name="zoo.txt", lang="en")])
    reads = []
    full_read = fake_kb.store.lang_vectors
    monkeypatch.setattr(fake_kb.store, "lang_vectors", lambda lang, dim, after=0: (
        reads.append((lang, after)) or full_read(lang, dim, after)))
    fake_kb.ingest([parse_article("Lions prefer upselling in the evening. " * 9,
                                  name="lions.txt", lang="en")])
    assert reads and all(after > 0 for _, after in reads)
    assert fake_kb.search("zebra giraffes savanna", k=3).hits[0].article_id == "zoo"
    assert fake_kb.search("lions upselling evening", k=3).hits[0].article_id == "lions"
    other.close()


def test_searches_during_another_writers_publish_use_the_published_indexes(fake_kb,
                                                                           monkeypatch):
    """Between a writer's commit and its publish, a reader keeps answering from the
    last published indexes instead of rebuilding them from the database."""
    import kb.core

    reader = KnowledgeBase.open(fake_kb.index_dir, settings=fake_kb.settings,
                                encoder=fake_kb.encoder)
    reader.search("warm")
    rebuilds = []
    build = reader._build_derived
    monkeypatch.setattr(reader, "_build_derived",
                        lambda langs, base: rebuilds.append(base) or build(langs, base))
    seen = []
    publish = kb.core.KnowledgeBase._publish

    def publish_after_a_search(self, langs, **kwargs):
        if self is fake_kb:  # committed, not yet published
            assert reader.store.version == reader._loaded_version + 1
            seen.append([h.article_id for h in reader.search("zebra giraffes", k=3).hits])
        return publish(self, langs, **kwargs)

    monkeypatch.setattr(kb.core.KnowledgeBase, "_publish", publish_after_a_search)
    fake_kb.ingest([parse_article("Zebra marketing for giraffes on the savanna. " * 9,
                                  name="zoo.txt", lang="en")])
    assert seen and "zoo" not in seen[0]  # not searchable before it is published
    assert reader.search("zebra giraffes", k=3).hits[0].article_id == "zoo"
    assert rebuilds == []  # loaded what the writer published, built nothing
    reader.close()


@pytest.mark.parametrize("count_agrees", [True, False])
def test_writes_change_the_indexes_as_a_rebuild_would(fake_kb, monkeypatch, count_agrees):
    """A write reads only the new chunks of the languages it touched and drops the
    deleted ones; the result ranks and scores like indexes rebuilt from the database.
    The deleted ones are those the write deleted when the language's chunk count
    agrees; otherwise (``count_agrees`` False) they come from reading its ids."""
    import shutil

    reads, id_reads = [], []
    full_read, ids_read = fake_kb.store.lang_vectors, fake_kb.store.lang_ids

    def spy(lang, dim, after=0):
        reads.append((lang, after))
        return full_read(lang, dim, after)

    monkeypatch.setattr(fake_kb.store, "lang_vectors", spy)
    monkeypatch.setattr(fake_kb.store, "lang_ids",
                        lambda lang: id_reads.append(lang) or ids_read(lang))
    if not count_agrees:
        monkeypatch.setattr(fake_kb.store, "lang_count", lambda lang: -1)
    fake_kb.search("warm")  # load the published indexes
    fake_kb.ingest([parse_article("Zebra marketing for giraffes on the savanna. " * 20,
                                  name="zoo.txt", lang="en")])
    fake_kb.ingest([parse_article("Zebra marketing, revised: lions prefer upselling. " * 20,
                                  name="zoo.txt", lang="en")])
    fake_kb.remove("ko-upstream-downstream-marketing")
    assert reads and all(after > 0 for _, after in reads)
    assert (id_reads == []) == count_agrees
    queries = ["zebra savanna upselling", "cross-selling KPI", "업스트림 마케팅",
               "Upstream-Marketing Strategie"]
    got = [[(h.chunk_id, h.score) for h in fake_kb.search(q, k=10).hits] for q in queries]
    for d in fake_kb.index_dir.glob("derived-*"):
        shutil.rmtree(d)
    (fake_kb.index_dir / "derived.json").unlink()
    fresh = KnowledgeBase.open(fake_kb.index_dir, settings=fake_kb.settings,
                               encoder=fake_kb.encoder)
    for q, hits in zip(queries, got, strict=True):
        expected = [(h.chunk_id, h.score) for h in fresh.search(q, k=10).hits]
        assert [c for c, _ in hits] == [c for c, _ in expected]
        assert [s for _, s in hits] == pytest.approx([s for _, s in expected], abs=1e-4)
    fresh.close()


def test_a_write_links_the_files_it_did_not_change(fake_kb, monkeypatch):
    monkeypatch.setattr("kb.core.remove_stale_derived", lambda *a, **k: None)
    fake_kb.search("warm")
    before = json.loads((fake_kb.index_dir / "derived.json").read_text())["dir"]
    fake_kb.ingest([parse_article("Zebra marketing for giraffes on the savanna. " * 20,
                                  name="zoo.txt", lang="en")])
    after = json.loads((fake_kb.index_dir / "derived.json").read_text())["dir"]
    old, new = fake_kb.index_dir / before, fake_kb.index_dir / after

    def same(path):
        return (old / path).stat().st_ino == (new / path).stat().st_ino

    assert same("vectors/ko.faiss") and same("vectors/ko.sent_vecs.f32")  # untouched
    assert not same("vectors/en.faiss")  # changed: rewritten
    assert same("vectors/en.sent_vecs.f32")  # extended in place: rows appended
    assert (new / "vectors/en.sent_vecs.f32").stat().st_size > len(
        np.load(old / "vectors/en.sent_chunk.npy")) * 4 * fake_kb.encoder.dim
    ko_segments = json.loads((new / "lexical/ko/segments.json").read_text())
    assert all(same(f"lexical/ko/{name}/term_rows.npy") for name in ko_segments)


def test_sentence_vectors_stay_one_mapped_file_across_writes(fake_kb, monkeypatch):
    """Each write appends to the file the previous version mapped, even after that
    version's directory is removed: no copy into memory, no rewrite."""
    import kb.rows

    copies = []
    real_empty = kb.rows._empty
    monkeypatch.setattr(kb.rows, "_empty", lambda n, dim: copies.append(n) or real_empty(n, dim))

    def current():
        info = json.loads((fake_kb.index_dir / "derived.json").read_text())
        return fake_kb.index_dir / info["dir"] / "vectors" / "en.sent_vecs.f32"

    fake_kb.search("warm")
    first = current().stat().st_ino
    for i in range(3):
        fake_kb.ingest([parse_article(f"Zebra marketing number {i}. Giraffes buy more. " * 9,
                                      name=f"zoo{i}.txt", lang="en")])
        fake_kb.remove(f"zoo{i - 1}") if i else None
        assert fake_kb._vectors._sent_rows["en"].mapped
        assert current().stat().st_ino == first
    assert len(list(fake_kb.index_dir.glob("derived-*"))) == 1
    assert copies == []  # every append went to the file
    assert [h.article_id for h in fake_kb.search("zebra giraffes", k=3).hits][0] == "zoo2"


def test_a_full_publish_streams_sentence_vectors_into_a_mapped_file(fake_kb, monkeypatch):
    """A full publish writes each language's sentence vectors from the database to a
    file and maps it, never reading them into memory; it gets the same rows, owners and
    means as an in-memory build, and leaves no staging files behind."""

    def read_into_memory(*args, **kwargs):
        raise AssertionError("a full publish read sentence vectors into memory")

    monkeypatch.setattr(fake_kb.store, "lang_sentences", read_into_memory)
    with fake_kb._lock():
        fake_kb._publish(set(), full=True)
    monkeypatch.undo()
    streamed = fake_kb._vectors
    in_memory, _ = fake_kb._build_derived(None, None)
    assert streamed.langs == in_memory.langs == ["de", "en", "ko", "vi"]
    for lang in streamed.langs:
        assert streamed._sent_rows[lang].mapped
        np.testing.assert_array_equal(streamed.sent_chunk[lang], in_memory.sent_chunk[lang])
        np.testing.assert_array_equal(streamed.sent_vecs[lang], in_memory.sent_vecs[lang])
        np.testing.assert_allclose(streamed.sent_means[lang], in_memory.sent_means[lang],
                                   atol=1e-6)
    assert not list(fake_kb.index_dir.glob(".derived-*"))
    info = json.loads((fake_kb.index_dir / "derived.json").read_text())
    assert (fake_kb.index_dir / info["dir"] / "vectors" / "ko.sent_vecs.f32").stat().st_nlink == 1
    reader = KnowledgeBase.open(fake_kb.index_dir, settings=fake_kb.settings,
                                encoder=fake_kb.encoder)
    for q in ["cross-selling KPI", "업스트림 마케팅", "Tiếp thị ngược dòng"]:
        assert ([(h.chunk_id, h.score) for h in reader.search(q).hits]
                == [(h.chunk_id, h.score) for h in fake_kb.search(q).hits])
    reader.close()


def test_progress_reports_every_stage_of_a_write_to_its_end(fake_kb):
    """Preparing, analyzing, embedding and indexing each report, in that order, up to
    their total: a large ingest or reindex is never silent for long."""
    calls = []
    articles = [parse_article(f"Zebra marketing number {i}. Giraffes buy more. " * 9,
                              name=f"zoo{i}.txt", lang="en") for i in range(3)]
    fake_kb.ingest(articles, progress=lambda *c: calls.append(c))
    stages = list(dict.fromkeys(stage for stage, _, _ in calls))
    assert stages == ["preparing", "analyzing", "embedding", "indexing"]
    for stage in stages:
        done = [d for s, d, _ in calls if s == stage]
        totals = {t for s, _, t in calls if s == stage}
        assert len(totals) == 1 and done == sorted(done) and done[-1] == totals.pop()
        assert done[0] == 0  # the bar starts before the stage's work
    assert [t for s, _, t in calls if s == "preparing"][0] == 3
    assert [t for s, _, t in calls if s == "indexing"][0] == 3 + 1  # en, and the save

    calls.clear()
    fake_kb.reindex(progress=lambda *c: calls.append(c))
    assert [t for s, _, t in calls if s == "indexing"][0] == 3 * 4 + 1  # every language


def test_derived_files_of_an_older_layout_are_rebuilt(fake_kb):
    pointer = fake_kb.index_dir / "derived.json"
    info = json.loads(pointer.read_text())
    pointer.write_text(json.dumps({"version": info["version"], "dir": info["dir"]}))
    kb = KnowledgeBase.open(fake_kb.index_dir, settings=fake_kb.settings, encoder=fake_kb.encoder)
    assert json.loads(pointer.read_text())["format"] == info["format"]
    assert kb.search("cross-selling", k=3).hits
    kb.close()


def test_index_survives_lost_derived_files(fake_kb):
    """If the derived indexes are missing (crash before they were written), readers
    rebuild them from the database without re-embedding."""
    import shutil

    for d in fake_kb.index_dir.glob("derived-*"):
        shutil.rmtree(d)
    kb = KnowledgeBase.open(fake_kb.index_dir, settings=fake_kb.settings, encoder=fake_kb.encoder)
    assert kb.search("cross-selling", k=3).hits
    kb.close()


def test_empty_index_returns_no_hits(tmp_path):
    kb = KnowledgeBase.open(tmp_path, settings=Settings(index_dir=tmp_path), encoder=FakeEncoder())
    assert kb.search("anything").hits == []


def test_reindex_rebuilds_after_model_change_and_keeps_articles_not_in_the_corpus(
    fake_kb, tmp_path
):
    """A rebuild after a model change must not lose an article ingested from elsewhere:
    it is rebuilt from the stored text. Only ``prune`` drops it."""
    from .conftest import CORPUS

    fake_kb.ingest(
        [parse_article("A lone article about pricing strategy in retail.", name="lone.txt")]
    )
    with fake_kb.store.transaction() as conn:  # an older article: its date must survive
        conn.execute("UPDATE articles SET added_at = '2020-01-02T03:04:05+00:00'")
    before = {r["id"]: dict(r) for r in fake_kb.store.articles()}
    small = FakeEncoder(dim=32)
    small.model_id, small.fingerprint = "fake-small", "fake-small-v1"
    settings = Settings(index_dir=fake_kb.index_dir, model="fake-small")
    with pytest.raises(IndexMismatchError):
        KnowledgeBase.open(fake_kb.index_dir, settings=settings, encoder=small)
    kb = KnowledgeBase.open(fake_kb.index_dir, settings=settings, encoder=small, check=False)
    report = kb.reindex([CORPUS])
    assert len(report.added) + len(report.updated) == 6 and report.chunks_embedded > 0
    assert report.kept == ["lone"] and report.removed == []
    after = {r["id"]: dict(r) for r in kb.store.articles()}
    assert set(after) == set(before)
    # The same article, with its first-added date.
    for key in ("title", "lang", "content_sha256", "added_at"):
        assert after["lone"][key] == before["lone"][key], key
    assert kb.article("lone")["text"] == "A lone article about pricing strategy in retail."
    kb.close()
    kb = KnowledgeBase.open(fake_kb.index_dir, settings=settings, encoder=small)
    assert kb.stats()["dim"] == 32 and kb.search("cross-selling").hits
    assert "lone" in {h.article_id for h in kb.search("pricing strategy in retail", k=10).hits}
    again = kb.reindex([CORPUS])
    assert again.chunks_embedded == 0  # same model: every vector is reused

    pruned = kb.reindex([CORPUS], prune=True)
    assert pruned.removed == ["lone"] and pruned.kept == []
    assert "lone" not in {a["id"] for a in kb.articles()}
    assert "lone" not in {h.article_id for h in kb.search("pricing strategy", k=10).hits}
    kb.close()


def test_readers_keep_answering_during_a_write(fake_kb):
    """Searches from other threads never fail or see half-written state while an
    ingest runs (the server's situation)."""
    import threading

    errors: list[BaseException] = []
    stop = threading.Event()
    searching = threading.Event()  # the writes start once the readers do (a busy
    counts = {"searches": 0}  # machine ran all three writes before the first search)

    def reader() -> None:
        while not stop.is_set():
            try:
                hits = fake_kb.search("cross-selling KPI", k=5).hits
                assert hits
                for h in hits:
                    assert h.text and h.start < h.end
                counts["searches"] += 1
                searching.set()
            except BaseException as exc:  # noqa: BLE001 - collected for the assert
                errors.append(exc)
                searching.set()
                return

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    assert searching.wait(60)
    for i in range(3):
        fake_kb.ingest([parse_article(f"Partner program {i}: resellers earn a margin on "
                                      f"every sale in region {i}.", name=f"partner-{i}.txt")])
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert counts["searches"] > 0
    assert {f"partner-{i}" for i in range(3)} <= {a["id"] for a in fake_kb.articles()}


def test_warm_up_loads_what_the_first_query_would_wait_for(fake_kb, monkeypatch):
    from kb import language, lexical

    lexical._kiwi.cache_clear()  # as in a fresh process
    lexical._analyze_lru.cache_clear()
    monkeypatch.setattr(lexical, "_SEEDED", {})
    monkeypatch.setattr(language, "_factory_loaded", False)
    fake_kb.glossary.__dict__.pop("_index", None)
    fake_kb.warm_up()
    assert lexical._kiwi.cache_info().currsize == 1  # Kiwi loaded
    assert "_index" in fake_kb.glossary.__dict__
    assert language._factory_loaded
    assert fake_kb.search("크로스셀링 KPI", k=3).hits


def test_an_outside_files_owner_is_looked_up_under_the_write_lock(fake_kb, tmp_path, monkeypatch):
    """A save of the same id between the owner lookup and the write would go unseen, so
    no other writer may get in while ingest_paths reads its files."""
    from filelock import Timeout

    import kb.core as core
    from kb.core import KnowledgeBase

    outside = tmp_path / "elsewhere" / "notes.md"
    outside.parent.mkdir()
    outside.write_text("# Notes\n\nLoyalty apps reward repeat purchases.\n", encoding="utf-8")
    other = KnowledgeBase.open(fake_kb.index_dir, settings=fake_kb.settings,
                               encoder=fake_kb.encoder)
    blocked = []
    real_read = core.read_article

    def read_while_another_writer_tries(path):
        try:
            with other.writing(timeout=0.2):
                blocked.append(False)
        except Timeout:
            blocked.append(True)
        return real_read(path)

    monkeypatch.setattr(core, "read_article", read_while_another_writer_tries)
    report = fake_kb.ingest_paths([outside])
    other.close()
    assert report.added == ["notes"] and blocked == [True]


def test_a_query_naming_only_concepts_lifts_the_passages_headed_by_them(fake_kb):
    """QA16 F6: about 25 passages named cross-selling, all with full concept coverage,
    and which came first was down to small dense and BM25 differences. A passage under
    a heading that is about what the query names ("Downstream Marketing Examples" for
    "Beispiele für Downstream-Marketing") gets the `heading` signal."""
    def headed(query: str) -> set[str]:
        return {s for h in fake_kb.search(query, k=40).hits if "heading" in h.signals
                for s in h.sections}

    examples = headed("Beispiele für Downstream-Marketing")
    assert "Downstream Marketing Examples" in examples
    assert "Upstream Marketing Examples" not in examples  # "Marketing" is no concept
    assert "3.2. 번들링" in headed("bundling")
    # A heading that names the concept among more words is about those words.
    assert not any("성공 사례" in s for s in headed("cross-selling"))
    # A query that says more than the glossary knows is about that too.
    assert headed("upstream marketing in retail banking") == set()


@pytest.mark.parametrize("query", ["What is cross-selling?", "크로스셀링이란 무엇인가요?",
                                   "Was ist Cross-Selling?", "Bán chéo là gì?"])
def test_the_opening_of_the_article_titled_with_the_concept_is_lifted(fake_kb, query):
    """QA21 F2: no heading is mostly cross-selling, so the cross-selling article's
    introduction, which the answer quotes, came 9th-12th, under a KPI list and a
    loyalty-point bullet. Its title names the concept: its opening is about it."""
    opening = fake_kb.store.article_chunks("ko-cross-selling-existing-customers")[0].id
    hits = fake_kb.search(query, k=40).hits
    lifted = [h.chunk_id for h in hits if "heading" in h.signals]
    assert opening in lifted
    # Not the openings of articles whose titles name something else.
    assert {h.article_id for h in hits if h.chunk_id in lifted} == {
        "ko-cross-selling-existing-customers"}



def test_a_query_is_names_only_when_the_glossary_names_are_all_it_asks(fake_kb):
    lex = fake_kb._ensure_fresh()[1]
    assert fake_kb.names_only("Gmarket", "en", lex)
    assert fake_kb.names_only("Nike Flyknit", "en", lex)
    # A name among other words is not all the query asks about.
    assert not fake_kb.names_only("Amazon rainforest size", "en", lex)
    assert not fake_kb.names_only("Gmarket email", "en", lex)
    assert not fake_kb.names_only("What is bundling?", "en", lex)


def test_a_snippet_is_no_list_lead_in_nor_heading(fake_kb):
    """QA18 F6: snippets were "Downstream Marketing Examples:", "For example:",
    "업셀링의 핵심 요소는:": a lead-in holds the query's words and says nothing."""
    for query in ("Beispiele für Downstream-Marketing", "upstream marketing", "업셀링 예시"):
        for hit in fake_kb.search(query, k=10, explain=True).hits:
            if hit.snippet is not None:
                shown = hit.text[hit.snippet[0]:hit.snippet[1]].strip()
                assert not shown.endswith(":") and shown not in hit.sections, (query, shown)


def test_a_numbered_markdown_heading_is_no_snippet_nor_two_sentences(fake_kb):
    """QA20 F5: "## 3. Measuring success" was stored as the sentences "## 3." and
    "Measuring success", and those were the best sentence of search hits (and the top
    hits of junk queries)."""
    text = ("# Referral playbook\n\n## 1. Designing a programme\n\n"
            "A referral programme rewards customers who bring friends. " * 3 + "\n\n"
            "## 3. Measuring success\n\n"
            "Measure the referral rate and the conversion rate of referred visitors. "
            "Compare the value of referred customers with others.\n")
    fake_kb.ingest([parse_article(text, name="referral-playbook.md", lang="en")])
    pieces = {text[a:b] for c in fake_kb.store.article_chunks("referral-playbook")
              for a, b in sentence_spans(text, c.start, c.end)}
    assert "## 3. Measuring success" in pieces and "## 3." not in pieces
    for query in ("How do I measure referral success?", "Measuring success"):
        for hit in fake_kb.search(query, k=5, explain=True).hits:
            if hit.article_id == "referral-playbook" and hit.snippet is not None:
                shown = hit.text[hit.snippet[0]:hit.snippet[1]].strip()
                assert not shown.lstrip("#").strip().startswith(("1.", "3.")), shown
                assert shown not in ("Measuring success", "Designing a programme"), shown


def test_the_same_text_twice_in_one_article_is_no_copy_of_itself(fake_kb):
    """QA18: a passage repeated in its own article was listed as "same text in" that
    article; it folds into the first, and names no copy."""
    from kb.articles import parse_article

    block = " ".join(f"Zephyr loyalty tier {i} rewards members who renew early." for i in range(30))
    other = " ".join(f"Budget planning note {i} covers quarterly reviews." for i in range(30))
    fake_kb.ingest([parse_article(f"# Zephyr\n\n{block}\n\n{other}\n\n{block}\n",
                                  name="zephyr.md", lang="en")])
    texts = [c.text for c in fake_kb.store.article_chunks("zephyr")]
    assert len(texts) > len(set(texts))  # the repeated block is a passage twice
    hits = [h for h in fake_kb.search("Zephyr loyalty tier renew", k=10,
                                      translations="fold").hits if h.article_id == "zephyr"]
    assert [h.text for h in hits].count(block) <= 1
    assert all(not h.copies for h in hits)


def test_folding_keeps_a_passage_in_the_askers_language():
    """QA20 F4: for a German question the English passage ranked first and its German
    original, ranked second, was folded into it as "a translation". The passage in
    the asker's language takes the group's place and best score; the other folds."""
    from kb import core
    from kb.results import Hit

    def hit(cid: int, lang: str, score: float) -> Hit:
        return Hit(cid, f"a{cid}", "t", lang, "", "text", 0, 4, score)

    hits = [hit(1, "en", 7.4), hit(2, "ko", 7.2), hit(3, "de", 7.1), hit(4, "de", 6.0)]
    aligned = {1: {3}, 3: {1}}
    moved = core._own_language_first(hits, aligned, "de")
    assert [(h.chunk_id, h.score) for h in moved] == [(3, 7.4), (1, 7.4), (2, 7.2), (4, 6.0)]
    assert core._own_language_first(hits, aligned, "en") == hits  # already first
    assert core._own_language_first(hits, {}, "de") == hits  # no translations, no change


def test_a_quoted_phrase_puts_the_passages_holding_it_first(fake_kb):
    """QA21 F8: quotes did nothing; "groups focus" ranked as "focus groups" did."""
    hits = fake_kb.search('"focus groups" research', k=10).hits
    holding = [h for h in hits if "focus groups" in h.text.casefold()]
    assert holding and hits[: len(holding)] == holding
    assert all(h.signals.get("phrase") == 1 for h in holding)
    assert not any("phrase" in h.signals for h in fake_kb.search('"groups focus"', k=10).hits)


def test_quoted_phrases_are_read_in_any_double_quotes():
    from kb.search import holds_phrases, quoted_phrases

    assert quoted_phrases('„Marketing  versus Vertrieb“ or “Focus Groups” and «x» it\'s') == [
        "marketing versus vertrieb", "focus groups", "x"]
    assert quoted_phrases("no quotes, it's fine") == []
    assert holds_phrases("We ran Focus Groups.", ["focus group"])
    assert holds_phrases("크로스셀링 전략을 세웁니다", ["크로스셀링 전략"])
    assert not holds_phrases("refocus groups", ["focus groups"])  # it starts a word
    assert not holds_phrases("groups focus", ["focus groups"])
