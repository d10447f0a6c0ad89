"""The vector index policy (flat below a threshold, IVF or HNSW above), deletes, adds,
save/load and the manifest entry. Small synthetic vectors; no model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kb.vectors import VectorConfig, VectorIndex

DIM = 32


def clustered(n: int, seed: int = 0, centers: int = 20) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centers, DIM)).astype(np.float32)
    x = c[rng.integers(centers, size=n)] + 0.3 * rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def exact_top(x: np.ndarray, ids: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    return ids[np.argsort(-(x @ q))[:k]]


def config(kind: str = "auto", **kw: int) -> VectorConfig:
    return VectorConfig(kind=kind, **{"threshold": 500, "nprobe": 4, **kw})


def built(kind: str, n: int = 2000, **kw: int) -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    x = clustered(n)
    ids = np.arange(1000, 1000 + n, dtype=np.int64)
    vi = VectorIndex(DIM, config(kind, **kw))
    vi.build("en", ids, x)
    return vi, ids, x


def test_policy_picks_flat_below_threshold_and_ann_above():
    cfg = VectorConfig(threshold=1000)
    assert cfg.kind_for(999) == "flat" and cfg.kind_for(1000) == "ivf"
    assert VectorConfig(kind="hnsw", threshold=1000).kind_for(10) == "hnsw"
    assert VectorConfig(kind="flat", threshold=10).kind_for(10**6) == "flat"

    vi = VectorIndex(DIM, config())
    vi.build("small", np.arange(100), clustered(100))
    vi.build("large", np.arange(600), clustered(600))
    assert vi.kind("small") == "flat" and vi.kind("large") == "ivf"
    assert vi.kind("absent") is None


def test_nlist_follows_size_with_enough_points_per_list():
    cfg = VectorConfig()
    assert cfg.nlist_for(1_000_000) == 1000
    assert cfg.nlist_for(100_000) == 316
    assert cfg.nlist_for(100) == 100 // 39  # k-means wants ~39 points per centroid
    assert VectorConfig(nlist=64).nlist_for(10_000) == 64


def test_config_from_env():
    env = {"KB_VECTOR_INDEX": "HNSW", "KB_VECTOR_THRESHOLD": "50_000",
           "KB_VECTOR_NPROBE": "16", "KB_VECTOR_EF_SEARCH": "200", "KB_VECTOR_NLIST": "512"}
    cfg = VectorConfig.from_env(env)
    assert (cfg.kind, cfg.threshold, cfg.nprobe, cfg.ef_search, cfg.nlist) == (
        "hnsw", 50_000, 16, 200, 512)
    assert VectorConfig.from_env({}) == VectorConfig()
    assert VectorConfig.from_env({"KB_VECTOR_INDEX": "ivf"}, kind="flat").kind == "flat"
    with pytest.raises(ValueError, match="auto, flat, ivf, hnsw"):
        VectorConfig.from_env({"KB_VECTOR_INDEX": "annoy"})
    with pytest.raises(ValueError, match="KB_VECTOR_NPROBE"):
        VectorConfig.from_env({"KB_VECTOR_NPROBE": "many"})
    with pytest.raises(ValueError):
        VectorConfig(nprobe=0)


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_search_finds_the_exact_top1(kind):
    vi, ids, x = built(kind)
    assert vi.kind("en") == kind
    rng = np.random.default_rng(1)
    queries = x[rng.choice(len(x), 50, replace=False)]
    queries = queries + 0.05 * rng.standard_normal(queries.shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    for q in queries:
        found, scores = vi.search("en", q, 10)
        assert found[0] == exact_top(x, ids, q, 1)[0]
        assert np.all(np.diff(scores) <= 1e-6)
    found, _ = vi.search("en", queries[0], 100)  # k above what some lists hold
    assert len(found) > 10 and len(set(found.tolist())) == len(found)


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_deleted_chunks_are_never_returned(kind):
    vi, ids, x = built(kind)
    gone_at = np.arange(0, len(ids), 3)
    gone = ids[gone_at]
    keep = ~np.isin(ids, gone)
    old = vi
    vi = old.copy()  # as kb.core does: build into a copy while readers use the old one
    vi.build("en", ids[keep], x[keep])
    assert vi.size("en") == keep.sum() and old.size("en") == len(ids)
    for q in x[gone_at][:100]:  # each deleted vector was its own best match
        found, _ = vi.search("en", q, 50)
        assert not np.isin(found, gone).any()
        assert found[0] == exact_top(x[keep], ids[keep], q, 1)[0]
    assert old.search("en", x[gone_at[0]], 1)[0][0] == gone[0]  # the old copy is untouched


def test_ivf_deletes_and_adds_in_place_without_retraining():
    import faiss

    vi, ids, x = built("ivf")
    before = vi._indexes["en"]
    centroids = faiss.vector_to_array(faiss.downcast_index(before.quantizer).codes).copy()
    extra = clustered(300, seed=7)
    extra_ids = np.arange(5000, 5300, dtype=np.int64)
    keep = ids[100:]
    all_ids = np.concatenate([keep, extra_ids])
    all_x = np.concatenate([x[100:], extra])
    nxt = vi.copy()
    nxt.build("en", all_ids[::-1], all_x[::-1])  # order does not matter
    after = nxt._indexes["en"]
    assert after is not before and after.ntotal == len(all_ids)
    assert np.array_equal(
        faiss.vector_to_array(faiss.downcast_index(after.quantizer).codes), centroids)
    assert nxt.search("en", extra[5], 1)[0][0] == extra_ids[5]
    assert not np.isin(nxt.search("en", x[0], 50)[0], ids[:100]).any()
    assert after.nprobe == 4
    # unchanged data keeps the very same index object
    again = nxt.copy()
    again.build("en", all_ids, all_x)
    assert again._indexes["en"] is after


def test_ivf_retrains_when_the_size_class_changes():
    vi, ids, x = built("auto", n=600)
    small_nlist = vi.describe()["langs"]["en"]["nlist"]
    big = clustered(6000, seed=3)
    nxt = vi.copy()
    nxt.build("en", np.arange(6000), big)
    assert nxt.describe()["langs"]["en"]["nlist"] > 2 * small_nlist
    # shrinking a little below the threshold keeps IVF (no retraining back and forth);
    # shrinking below half of it goes back to exact search
    shrunk = vi.copy()
    shrunk.build("en", ids[:400], x[:400])
    assert shrunk.kind("en") == "ivf" and shrunk.size("en") == 400
    assert shrunk.describe()["langs"]["en"]["nlist"] == small_nlist  # not retrained
    shrunk.build("en", ids[:200], x[:200])
    assert shrunk.kind("en") == "flat"
    fresh = VectorIndex(DIM, config())
    fresh.build("en", ids[:400], x[:400])
    assert fresh.kind("en") == "flat"


@pytest.mark.parametrize("n", [1, 3, 40])
def test_forced_ivf_and_hnsw_work_on_tiny_languages(n):
    x = clustered(n)
    for kind in ("ivf", "hnsw"):
        vi = VectorIndex(DIM, config(kind))
        vi.build("ko", np.arange(n) + 7, x)
        assert vi.kind("ko") == kind
        found, _ = vi.search("ko", x[0], 100)
        assert found[0] == 7 and sorted(found.tolist()) == list(range(7, 7 + n))


def test_hnsw_adds_in_place_and_rebuilds_on_delete():
    vi, ids, x = built("hnsw", n=800)
    first = vi._indexes["en"]
    more = clustered(100, seed=9)
    nxt = vi.copy()
    nxt.build("en", np.concatenate([ids, np.arange(9000, 9100)]), np.concatenate([x, more]))
    assert nxt._indexes["en"] is not first and nxt.size("en") == 900
    assert nxt.search("en", more[0], 1)[0][0] == 9000
    nxt.build("en", ids[1:], x[1:])
    assert nxt.size("en") == 799
    assert ids[0] not in nxt.search("en", x[0], 20)[0]


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_save_load_round_trip_keeps_kind_and_search_settings(kind, tmp_path):
    vi, ids, x = built(kind, ef_search=40)
    vi.build("de", np.arange(50), clustered(50, seed=4))
    vi.save(tmp_path / "v")
    back = VectorIndex.load(tmp_path / "v", vi.config)
    assert back.describe() == vi.describe()
    assert back.kind("en") == back.kind("de") == kind
    assert np.array_equal(back._ids["en"], ids)
    q = x[17]
    assert np.array_equal(back.search("en", q, 20)[0], vi.search("en", q, 20)[0])
    assert VectorIndex.describe_saved(tmp_path / "v") == json.loads(
        json.dumps(vi.describe()))
    # search settings are not baked in: a new config applies on load
    other = VectorIndex.load(tmp_path / "v", config(kind, nprobe=2, ef_search=80))
    info = other.describe()["langs"]["en"]
    if kind == "ivf":
        assert info["nprobe"] == 2
    if kind == "hnsw":
        assert info["efSearch"] == 80
    # deletes keep working after a load (ids come back from the saved file)
    other.build("en", ids[1:], x[1:])
    assert ids[0] not in other.search("en", x[0], 10)[0]


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_update_equals_a_build_from_all_vectors(kind):
    """A write applied from its new chunks and deleted ids alone (as kb.core does)
    leaves what a build from all the language's vectors would: ids, means, sentences,
    and the exact top-1."""
    x, sx = clustered(1200), clustered(2400, seed=5)
    ids = np.arange(1, 1201, dtype=np.int64)
    owner = np.repeat(ids, 2)
    changed = VectorIndex(DIM, config(kind))
    changed.build("en", ids[:1000], x[:1000], owner[:2000], sx[:2000])
    changed.best_sentence(["en"], x[0], ids[:5], np.zeros(5, np.int64))  # table built
    old = changed.copy()
    gone = ids[10:400:3] if kind != "hnsw" else np.empty(0, np.int64)
    changed.update("en", gone, ids[1000:], x[1000:], owner[2000:], sx[2000:])
    assert changed._sent_table is not None  # extended by the appended rows, not dropped
    keep, skeep = ~np.isin(ids, gone), ~np.isin(owner, gone)
    full = VectorIndex(DIM, config(kind))
    full.build("en", ids[keep], x[keep], owner[skeep], sx[skeep])
    assert changed.kind("en") == kind and changed.size("en") == keep.sum()
    assert np.array_equal(changed.ids("en"), full.ids("en"))
    np.testing.assert_allclose(changed.means["en"], full.means["en"], atol=1e-6)
    live = np.isin(changed.sent_chunk["en"], changed.ids("en"))  # deleted rows stay, unused
    assert np.array_equal(changed.sent_chunk["en"][live], full.sent_chunk["en"])
    assert np.array_equal(changed.sent_vecs["en"][live], full.sent_vecs["en"])
    chunks = np.concatenate([full.ids("en")[::5], ids[1000:]])
    at = np.zeros(len(chunks), np.int64)
    for q in x[995:1005]:
        np.testing.assert_allclose(changed.best_sentence(["en"], q, chunks, at),
                                   full.best_sentence(["en"], q, chunks, at), atol=1e-6)
    np.testing.assert_allclose(changed.sent_means["en"], full.sent_means["en"], atol=1e-6)
    for q in x[1000:1050]:  # the added vectors are found
        assert changed.search("en", q, 1)[0][0] == exact_top(x[keep], ids[keep], q, 1)[0]
    if len(gone):
        assert not np.isin(changed.search("en", x[10], 50)[0], gone).any()
    assert old.size("en") == 1000  # readers' copy untouched


def test_sentence_rows_of_deleted_chunks_are_compacted_away():
    x, sx = clustered(300), clustered(900, seed=2)
    ids = np.arange(1, 301, dtype=np.int64)
    vi = VectorIndex(DIM, config("flat"))
    vi.build("en", ids, x, np.repeat(ids, 3), sx)
    vi.update("en", ids[:50], np.empty(0, np.int64), np.empty((0, DIM), np.float32))
    assert len(vi.sent_chunk["en"]) == 900  # a sixth dead: kept
    vi.update("en", ids[50:100], np.empty(0, np.int64), np.empty((0, DIM), np.float32))
    assert len(vi.sent_chunk["en"]) == 600  # a third dead: copied out
    np.testing.assert_allclose(vi.sent_means["en"], sx[300:].mean(axis=0), atol=1e-6)


def test_ivf_writes_wait_beside_the_index_until_folded_in(tmp_path):
    """kb/delta.py: a small write leaves the IVF index object (and file) as it is; added
    vectors are searched exactly beside it and deleted ids are skipped."""
    from kb import delta

    x = clustered(3400, seed=7)
    ids = np.arange(1, 3401, dtype=np.int64)
    vi = VectorIndex(DIM, config("ivf"))
    vi.build("en", ids[:2000], x[:2000])
    main = vi._indexes["en"]
    vi.update("en", ids[:50], ids[2000:2100], x[2000:2100])  # delete 50 old, add 100
    vi.update("en", ids[2000:2010], ids[2100:2120], x[2100:2120])  # delete 10 of the new
    assert vi._indexes["en"] is main  # no clone, no rewrite
    live = np.concatenate([ids[50:2000], ids[2010:2120]])
    assert np.array_equal(vi.ids("en"), live) and vi.size("en") == len(live)
    info = vi.describe()["langs"]["en"]
    assert (info["vectors"], info["pending_added"], info["pending_deleted"]) == (
        len(live), 110, 50)
    rows = live - 1
    np.testing.assert_allclose(vi.means["en"], x[rows].mean(axis=0), atol=1e-6)
    for i in ids[2010:2120:7] - 1:  # added vectors are found as their own best match
        assert vi.search("en", x[i], 1)[0][0] == ids[i]
    for i in np.concatenate([ids[:50], ids[2000:2010]]) - 1:  # deleted ones never come back
        found = vi.search("en", x[i], 50)[0]
        assert not np.isin(found, np.concatenate([ids[:50], ids[2000:2010]])).any()
    vi.save(tmp_path / "v")
    back = VectorIndex.load(tmp_path / "v", vi.config)
    assert back.describe() == vi.describe()
    np.testing.assert_allclose(back.means["en"], vi.means["en"], atol=1e-6)
    for i in (5, 60, 2015, 2111):
        assert np.array_equal(back.search("en", x[i], 20)[0], vi.search("en", x[i], 20)[0])
    # Enough writes fold them in: a new index, nothing pending.
    assert len(ids[2120:]) > delta.FOLD_MIN
    back.update("en", np.empty(0, np.int64), ids[2120:], x[2120:])
    assert back._indexes["en"] is not main and "en" not in back._pending
    assert back.size("en") == back._indexes["en"].ntotal == len(live) + len(ids[2120:])
    assert "pending_added" not in back.describe()["langs"]["en"]


def test_update_crosses_the_threshold_and_checks_ids():
    x = clustered(700)
    ids = np.arange(1, 701, dtype=np.int64)
    vi = VectorIndex(DIM, config())  # threshold 500
    vi.build("en", ids[:450], x[:450])
    assert vi.kind("en") == "flat"
    vi.update("en", np.array([1, 2]), ids[450:], x[450:])
    assert vi.kind("en") == "ivf" and vi.size("en") == 698
    np.testing.assert_allclose(vi.means["en"], x[2:].mean(axis=0), atol=1e-6)
    with pytest.raises(ValueError, match="larger"):
        vi.update("en", np.empty(0, np.int64), ids[:1], x[:1])
    vi.update("en", vi.ids("en"), np.empty(0, np.int64), np.empty((0, DIM), np.float32))
    assert vi.langs == []


def test_saved_sentence_sums_match_and_older_saves_work_them_out(tmp_path):
    x, sx = clustered(300), clustered(900, seed=2)
    ids = np.arange(1, 301, dtype=np.int64)
    vi = VectorIndex(DIM, config("flat"))
    vi.build("en", ids, x, np.repeat(ids, 3), sx)
    vi.update("en", ids[:30], np.empty(0, np.int64), np.empty((0, DIM), np.float32))
    vi.save(tmp_path / "v")
    assert vi._sent_rows["en"].mapped  # saved: read from the file from now on
    live = sx[90:].mean(axis=0)
    back = VectorIndex.load(tmp_path / "v")
    np.testing.assert_allclose(back.sent_means["en"], live, atol=1e-6)
    (tmp_path / "v" / "en.sent_sum.npy").unlink()  # saved before the sums were
    older = VectorIndex.load(tmp_path / "v")
    np.testing.assert_allclose(older.sent_means["en"], live, atol=1e-6)
    assert older._sent_sum["en"][1] == back._sent_sum["en"][1] == 810


def test_save_links_the_files_of_unchanged_languages(tmp_path):
    vi, ids, x = built("ivf")
    vi.build("de", np.arange(50), clustered(50, seed=4))
    vi.save(tmp_path / "v1")
    nxt = VectorIndex.load(tmp_path / "v1", vi.config)
    nxt.update("de", np.array([0]), np.array([60]), clustered(1, seed=9))
    nxt.save(tmp_path / "v2")

    def inode(path):
        return path.stat().st_ino

    assert inode(tmp_path / "v1" / "en.faiss") == inode(tmp_path / "v2" / "en.faiss")
    # de is IVF too (forced): the write waits beside its unchanged index (kb/delta.py)
    assert inode(tmp_path / "v1" / "de.faiss") == inode(tmp_path / "v2" / "de.faiss")
    assert (tmp_path / "v2" / "de.delta.faiss").exists()
    back = VectorIndex.load(tmp_path / "v2", vi.config)
    assert back.ids("de").tolist() == [*range(1, 50), 60]
    assert np.array_equal(back.search("en", x[5], 5)[0], vi.search("en", x[5], 5)[0])


def test_load_without_ids_file_recovers_ids(tmp_path):
    for kind in ("flat", "ivf"):
        vi, ids, _ = built(kind)
        vi.save(tmp_path / kind)
        (tmp_path / kind / "en.ids.npy").unlink()
        assert np.array_equal(VectorIndex.load(tmp_path / kind)._ids["en"], ids)


def test_describe():
    vi, _, _ = built("auto", n=800)
    vi.build("ko", np.arange(10), clustered(10))
    d = vi.describe()
    assert d["metric"] == "inner_product" and d["dim"] == DIM
    assert d["config"]["kind"] == "auto" and d["config"]["threshold"] == 500
    assert d["langs"]["ko"] == {"kind": "flat", "vectors": 10}
    en = d["langs"]["en"]
    assert en["kind"] == "ivf" and en["vectors"] == 800
    assert en["nlist"] == VectorConfig().nlist_for(800) and en["nprobe"] == 4
    h, _, _ = built("hnsw", n=300, hnsw_m=8, ef_construction=20, ef_search=33)
    assert h.describe()["langs"]["en"] == {"kind": "hnsw", "vectors": 300, "M": 8,
                                           "efConstruction": 20, "efSearch": 33}
    json.dumps(d)  # the manifest stores it as JSON


def test_knowledge_base_records_the_index_and_deletes_with_ivf(tmp_path, monkeypatch,
                                                                fake_encoder):
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    from .conftest import CORPUS

    monkeypatch.setenv("KB_VECTOR_INDEX", "ivf")
    monkeypatch.setenv("KB_VECTOR_NPROBE", "1")
    d = tmp_path / "index"
    settings = Settings.from_env(index_dir=d, model="fake")  # reads KB_VECTOR_*
    assert settings.vector_index.kind == "ivf" and settings.vector_index.nprobe == 1
    kb = KnowledgeBase.open(d, settings=settings, encoder=fake_encoder)
    try:
        assert not kb.ingest_paths([CORPUS]).errors
        m = json.loads((d / "manifest.json").read_text())
        langs = m["vector_index"]["langs"]
        assert langs and all(v["kind"] == "ivf" for v in langs.values())
        assert m["vector_index"]["config"]["kind"] == "ivf"
        aid = "de-upstream-downstream-marketingleiter"
        kb.remove(aid)
        assert all(h.article_id != aid
                   for h in kb.search("Upstream-Marketing Vertrieb", k=20).hits)
        m = json.loads((d / "manifest.json").read_text())
        assert "de" not in m["vector_index"]["langs"]  # its only article is gone
        assert set(m["vector_index"]["langs"]) == set(langs) - {"de"}
    finally:
        kb.close()
    reader = KnowledgeBase.open(d, settings=Settings(index_dir=d, model="fake"),
                                encoder=fake_encoder)
    try:
        assert reader.search("cross-selling", k=5).hits
        assert all(v["nprobe"] == 1 for v in reader._vectors.describe()["langs"].values())
    finally:
        kb.close()


def _with_sentences(
    vi: VectorIndex, lang: str, ids: np.ndarray, seed: int
) -> dict[int, np.ndarray]:
    """Build ``lang`` with 0-3 sentence vectors per chunk; returns chunk id -> its sentences."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, size=len(ids))
    owners = np.repeat(ids, counts)
    sents = clustered(len(owners), seed=seed + 1)
    vi.build(lang, ids, clustered(len(ids), seed=seed), owners, sents)
    return {int(c): sents[owners == c] for c in ids if (owners == c).any()}


def test_best_sentence_is_each_chunks_best_cosine_across_languages(tmp_path):
    vi = VectorIndex(DIM, config("flat"))
    truth = _with_sentences(vi, "de", np.arange(10, 60, dtype=np.int64), seed=1)
    truth |= _with_sentences(vi, "en", np.arange(200, 290, dtype=np.int64), seed=2)
    q = clustered(1, seed=9)[0]

    def check(index: VectorIndex) -> None:
        ids, scores, pos = index.search_langs(["de", "en", "absent"], q, 30)
        assert list(np.bincount(pos, minlength=3)) == [30, 30, 0]
        best = index.best_sentence(["de", "en", "absent"], q, ids, pos)
        for cid, b in zip(ids.tolist(), best.tolist(), strict=True):
            if cid in truth:
                assert b == pytest.approx(float((truth[cid] @ q).max()), abs=1e-6)
            else:
                assert np.isnan(b)  # a chunk without sentence vectors
        means, _ = index.mean_rows(["de", "en", "absent"])
        assert np.allclose(means, [index.means["de"], index.means["en"], np.zeros(DIM)])

    check(vi)
    vi.save(tmp_path / "v")
    check(VectorIndex.load(tmp_path / "v", config("flat")))
    # Rebuilding a language with other sentences is seen by the next query.
    truth = {c: s for c, s in truth.items() if c >= 200}
    truth |= _with_sentences(vi, "de", np.arange(10, 60, dtype=np.int64), seed=5)
    check(vi)



@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_search_within_some_ids_gets_their_own_top_k(kind):
    """A search limited to some chunks (a tag or article filter) gets the best k of
    those, chosen inside FAISS: not what is left of everyone's top k (QA21 F7)."""
    vi, ids, x = built(kind)
    within = ids[::40]  # 50 of 2000, scattered over the lists
    q = x[3]  # its own best match is not among them
    found, scores = vi.search_langs(["en"], q, 10, within=within)[:2]
    assert len(found) == 10 and np.isin(found, within).all()
    assert np.all(np.diff(scores) <= 1e-6)
    if kind != "hnsw":  # IVF probes every list for a filter this narrow
        assert found.tolist() == exact_top(x[::40], within, q, 10).tolist()
    assert ids[3] in vi.search_langs(["en"], q, 10)[0]  # unfiltered, it comes first


def test_search_within_some_ids_with_pending_writes():
    """The same on an IVF language with writes kept beside it (kb/delta.py): added
    vectors outside the filter and deleted ones inside it never come back."""
    x = clustered(2200, seed=7)
    ids = np.arange(1, 2201, dtype=np.int64)
    vi = VectorIndex(DIM, config("ivf"))
    vi.build("en", ids[:2000], x[:2000])
    vi.update("en", ids[:50], ids[2000:2100], x[2000:2100])  # delete 50 old, add 100
    assert "en" in vi._pending
    within = np.concatenate([ids[:100], ids[2050:2100]])  # 50 deleted, 50 live, 50 added
    for i in (0, 60, 2010, 2060):
        found = vi.search_langs(["en"], x[i], 30, within=within)[0]
        assert len(found) and np.isin(found, within).all()
        assert not np.isin(found, ids[:50]).any()
    assert vi.search_langs(["en"], x[2060], 1, within=within)[0][0] == ids[2060]
    assert vi.search_langs(["en"], x[2010], 5, within=within)[0][0] != ids[2010]


def test_a_faiss_index_that_cannot_be_written_is_an_os_error(tmp_path):
    """QA24a F1: FAISS reports a failed write (a full disk) as a RuntimeError with a C++
    assertion, which became a 500; kb reports storage failures from OSError."""
    import errno

    import faiss

    from kb.faiss_read import write_index

    index = faiss.IndexFlatIP(4)
    with pytest.raises(OSError) as failed:
        write_index(index, tmp_path / "no-such-dir" / "en.faiss")
    assert failed.value.errno == errno.ENOENT
    assert failed.value.filename == str(tmp_path / "no-such-dir" / "en.faiss")
    write_index(index, tmp_path / "en.faiss")
    assert faiss.read_index(str(tmp_path / "en.faiss")).d == 4
