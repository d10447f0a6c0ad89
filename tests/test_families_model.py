"""Real model: translation families found after an ingest, and what writing them leaves."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from kb import adding
from kb.core import KnowledgeBase

pytestmark = pytest.mark.model

DE_SEED = "de-upstream-downstream-marketingleiter"
VI_SEED = "vi-thuong-nguon-ha-nguon-tiep-thi"


def test_finding_a_family_keeps_the_search_indexes_current(
    real_kb_dir, real_encoder, tmp_path, caplog
):
    d = tmp_path / "index"
    shutil.copytree(real_kb_dir, d)
    kb = KnowledgeBase.open(d, encoder=real_encoder)
    kb.search("upstream")  # load the derived indexes
    loaded = kb._loaded_version

    pairs = adding.link_new(kb, [VI_SEED])

    assert {frozenset(p[:2]) for p in pairs} == {frozenset((VI_SEED, DE_SEED))}
    assert kb.store.version == loaded == kb._published_version()
    assert kb._loaded_version == loaded  # no reload, no rebuild
    kb.close()
    with caplog.at_level(logging.WARNING, logger="kb.core"):
        again = KnowledgeBase.open(d, encoder=real_encoder)
        assert [f["article_id"] for f in adding.family_of(again, DE_SEED)] == [VI_SEED]
        again.close()
    assert "lag" not in caplog.text


def test_reindex_finds_the_families_again(real_kb_dir, tmp_path, monkeypatch):
    """A rebuild gives every chunk a new id, so links (pairs of chunk ids) are found anew."""
    from click.testing import CliRunner

    from kb.cli import cli

    d = tmp_path / "index"
    shutil.copytree(real_kb_dir, d)
    monkeypatch.setenv("KB_INDEX_DIR", str(d))
    res = CliRunner().invoke(cli, ["reindex"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "translation family:" in res.stdout and DE_SEED in res.stdout
    kb = KnowledgeBase.open(d)
    try:
        assert [f["article_id"] for f in adding.family_of(kb, DE_SEED)] == [VI_SEED]
        de = {c.id for c in kb.store.article_chunks(DE_SEED)}
        for link in kb.store.links(DE_SEED):  # the pairs name chunks that exist now
            pairs = json.loads(link["pairs"])
            assert pairs and all((a in de) != (b in de) for a, b in pairs)
    finally:
        kb.close()


def test_editing_an_articles_metadata_keeps_its_translation(real_kb_dir, real_encoder, tmp_path):
    """Saving an article gives its passages new ids, and links are pairs of passage ids:
    a tag edit had dropped the German seed's link to its Vietnamese translation."""
    from .test_answers import _copy_of

    kb = _copy_of(real_kb_dir, real_encoder, tmp_path)
    try:
        assert [f["article_id"] for f in adding.family_of(kb, DE_SEED)] == [VI_SEED]
        res = adding.edit(kb, DE_SEED, tags=["upstream marketing", "qa"])
        assert [f["article_id"] for f in res.family] == [VI_SEED]
        assert [f["article_id"] for f in adding.family_of(kb, DE_SEED)] == [VI_SEED]
        de = {c.id for c in kb.store.article_chunks(DE_SEED)}
        for link in kb.store.links(DE_SEED):  # the pairs name the passages it has now
            pairs = json.loads(link["pairs"])
            assert pairs and all((a in de) != (b in de) for a, b in pairs)
    finally:
        kb.close()
