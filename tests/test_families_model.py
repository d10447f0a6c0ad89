"""Real model: translation families found after an ingest, and what writing them leaves."""

from __future__ import annotations

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
