"""Backups and restores of an index directory (QA24a F7, F8): `kb backup` takes the
writes still in kb.sqlite-wal, a database older than its derived indexes is called
that, and `kb ingest --reindex-if-stale` repairs a derived index that does not load."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.articles import parse_article
from kb.cli import cli
from kb.core import KnowledgeBase
from kb.settings import Settings

from .conftest import CORPUS

QUOKKA = "Quokka loyalty ladders reward quokka customers twice."


def _open(d: Path, encoder) -> KnowledgeBase:
    return KnowledgeBase.open(d, settings=Settings(index_dir=d, model="fake"), encoder=encoder)


def _ids(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {r[0] for r in conn.execute("SELECT id FROM articles")}
    finally:
        conn.close()


@pytest.fixture
def open_kb(fake_kb_dir, tmp_path, fake_encoder):
    """A knowledge base kept open (as a server keeps it) with one write in its WAL."""
    d = tmp_path / "index"
    shutil.copytree(fake_kb_dir, d)
    kb = _open(d, fake_encoder)
    kb.ingest([parse_article(QUOKKA, name="quokka.txt")])
    yield kb
    kb.close()


def test_backup_has_the_writes_still_in_the_wal(open_kb, tmp_path, monkeypatch, fake_encoder):
    d = open_kb.index_dir
    wal = d / "kb.sqlite-wal"
    assert wal.exists() and wal.stat().st_size > 0  # not checkpointed: the server is up
    # What QA24a F7 did: kb.sqlite copied alone has lost the write.
    shutil.copyfile(d / "kb.sqlite", tmp_path / "plain.sqlite")
    assert "quokka" not in _ids(tmp_path / "plain.sqlite")

    monkeypatch.setenv("KB_MODEL", "fake")
    dest = tmp_path / "backups" / "monday"
    res = CliRunner().invoke(cli, ["--index", str(d), "backup", str(dest)])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(f"backed up {d / 'kb.sqlite'} (version 2, 6 article(s), ")
    assert f"to {dest / 'kb.sqlite'} with manifest.json in " in res.stdout
    assert "derived indexes not copied" in res.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["kb.sqlite", "manifest.json"]
    assert "quokka" in _ids(dest / "kb.sqlite")  # one file: no -wal beside it needed
    # The copy is an index: its derived indexes are rebuilt on first use, and it searches.
    copy = _open(dest, fake_encoder)
    try:
        assert copy.store.version == open_kb.store.version
        assert copy.search("quokka loyalty ladders", k=1).hits[0].article_id == "quokka"
    finally:
        copy.close()
    # A backup is never overwritten.
    again = CliRunner().invoke(cli, ["--index", str(d), "backup", str(dest)])
    assert again.exit_code == 1 and again.stderr.startswith(f"error: {dest / 'kb.sqlite'} "
                                                              "exists already")


def test_a_database_older_than_its_derived_indexes_is_called_that(open_kb, tmp_path,
                                                                   fake_encoder, caplog):
    """QA24a F7: a kb.sqlite copied without its -wal beside newer derived indexes was
    "derived indexes lag the database", the opposite of what happened."""
    d = open_kb.index_dir
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copyfile(d / "kb.sqlite", copy / "kb.sqlite")  # without kb.sqlite-wal
    for p in d.glob("derived*"):
        (shutil.copytree if p.is_dir() else shutil.copyfile)(p, copy / p.name)
    caplog.set_level(logging.WARNING, logger="kb.core")
    kb = _open(copy, fake_encoder)
    try:
        kb.search("loyalty", k=1)
    finally:
        kb.close()
    said = " ".join(r.getMessage() for r in caplog.records)
    assert ("the database (version 1) is older than its derived indexes (version 2): was it "
            "restored from a backup, or copied without its kb.sqlite-wal file?") in said
    assert "derived indexes lag the database" not in said


@pytest.mark.parametrize("damage", ["deleted", "truncated faiss"])
def test_ingest_reindex_if_stale_repairs_an_unreadable_derived_index(
        fake_kb_dir, tmp_path, monkeypatch, caplog, damage):
    """QA24a F8: a deleted or damaged derived-*/ was rebuilt in memory by every process
    at every start, and `kb ingest --reindex-if-stale` (make run) left it so."""
    d = tmp_path / "index"
    shutil.copytree(fake_kb_dir, d)
    (published,) = d.glob("derived-*")
    if damage == "deleted":
        shutil.rmtree(published)
    else:
        faiss = next(published.rglob("*.faiss"))
        faiss.write_bytes(faiss.read_bytes()[:100])
    monkeypatch.setenv("KB_MODEL", "fake")
    monkeypatch.setenv("KB_INDEX_DIR", str(d))
    monkeypatch.setenv("KB_CORPUS_DIR", str(CORPUS))
    caplog.set_level(logging.WARNING, logger="kb.core")
    res = CliRunner().invoke(cli, ["search", "upstream", "-k", "1"])
    assert res.exit_code == 0
    warned = [r.getMessage() for r in caplog.records if "unreadable" in r.getMessage()]
    assert warned and "`kb ingest --reindex-if-stale`" in warned[0]
    assert "`kb reindex` repairs it on disk" in warned[0]

    res = CliRunner().invoke(cli, ["ingest", "--reindex-if-stale"])
    assert res.exit_code == 0, res.output
    assert f"repaired the derived indexes of {d}" in res.stderr
    caplog.clear()
    res = CliRunner().invoke(cli, ["search", "upstream", "-k", "1"])
    assert res.exit_code == 0 and "unreadable" not in caplog.text
    # The version is the same: nothing in the database changed.
    assert sorted(p.name for p in d.glob("derived-*")) == [published.name]
