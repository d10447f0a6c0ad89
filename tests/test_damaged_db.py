"""A kb.sqlite damaged inside, not at its header (QA24a F4): it opens, and the damage
shows up only when a query reads the damaged pages. Every edge then says what opening a
damaged database says, once: one `error:` line (JSON with --json), a 503, a degraded
/healthz."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from kb.cli import cli
from kb.core import KnowledgeBase
from kb.settings import Settings
from web.app import create_app

DAMAGED = "is damaged (database disk image is malformed)"


def damage_chunks(index: Path) -> None:
    """Overwrite the leaf pages of the chunks table (the passages' text) with 0xFF, as
    a disk error would: the schema, meta and articles pages stay readable."""
    db = index / "kb.sqlite"
    conn = sqlite3.connect(db)
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = [r[0] for r in conn.execute(
        "SELECT pageno FROM dbstat WHERE name = 'chunks' AND pagetype = 'leaf'")]
    conn.close()
    assert pages and not Path(f"{db}-wal").exists()
    with open(db, "r+b") as f:
        for page in pages:
            f.seek((page - 1) * size)
            f.write(b"\xff" * size)


@pytest.fixture
def damaged_dir(fake_kb_dir, tmp_path) -> Path:
    d = tmp_path / "damaged"
    shutil.copytree(fake_kb_dir, d)
    damage_chunks(d)
    return d


def test_the_cli_says_the_database_is_damaged_in_one_line(damaged_dir, monkeypatch):
    monkeypatch.setenv("KB_MODEL", "fake")
    monkeypatch.setenv("KB_INDEX_DIR", str(damaged_dir))
    assert CliRunner().invoke(cli, ["stats"]).exit_code == 0  # it opens fine
    res = CliRunner().invoke(cli, ["search", "upstream marketing"])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.exception
    assert res.stderr.splitlines() == [res.stderr.strip()]  # one line, no traceback
    assert res.stderr.startswith(f"error: the index database {damaged_dir / 'kb.sqlite'} "
                                 f"{DAMAGED}") and "run `kb ingest`" in res.stderr
    res = CliRunner().invoke(cli, ["search", "upstream marketing", "--json"])
    assert res.exit_code == 1 and not res.stderr
    body = json.loads(res.stdout)
    assert body["ok"] is False and body["status"] == 503 and DAMAGED in body["error"]


def test_the_api_answers_503_and_healthz_turns_degraded(damaged_dir, fake_encoder):
    kb = KnowledgeBase.open(damaged_dir, settings=Settings(index_dir=damaged_dir,
                                                           model="fake"),
                            encoder=fake_encoder)
    app = create_app(Settings(index_dir=damaged_dir, model="fake"), kb=kb)
    try:
        with TestClient(app) as c:
            assert c.get("/healthz").json()["status"] == "ready"  # nothing has read it yet
            r = c.get("/api/search", params={"q": "upstream marketing"})
            assert r.status_code == 503, r.text
            assert r.json()["ok"] is False and DAMAGED in r.json()["error"]
            page = c.get("/", params={"q": "upstream marketing"})
            assert page.status_code == 503 and "text/html" in page.headers["content-type"]
            assert "is damaged" in page.text
            health = c.get("/healthz")
            assert health.status_code == 503
            assert health.json()["status"] == "degraded" and DAMAGED in health.json()["error"]
    finally:
        kb.close()


def test_only_damage_is_translated(tmp_path):
    """Another database error (a bug, a locked file) is not called damage."""
    from kb.store import damaged

    conn = sqlite3.connect(tmp_path / "t.sqlite")
    conn.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError) as integrity:
        conn.execute("INSERT INTO t VALUES (1)")
    assert damaged(integrity.value, tmp_path / "t.sqlite") is None
    with pytest.raises(sqlite3.OperationalError) as operational:
        conn.execute("SELECT * FROM nowhere")
    assert damaged(operational.value, tmp_path / "t.sqlite") is None
