"""`kb serve` as an operator runs it (QA24a F5, F6): a start that cannot work is one
`error:` line and exit status 1, and the log has the time on every line and one line
per write naming what it changed. Servers here listen on 8883-8885."""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from kb.core import KnowledgeBase
from kb.settings import Settings
from web.app import create_app

from .conftest import CORPUS, ROOT

TOKEN = "serve-ops-token"
STAMPED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR) [\w.]+: ")


def _serve(index: Path, *args: str, env: dict[str, str] | None = None,
           model: str = "fake") -> tuple[list[str], dict[str, str]]:
    cmd = [sys.executable, "-m", "kb.cli", "--index", str(index), "--model", model, "serve",
           *args]
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return cmd, full


def _refused(cmd: list[str], env: dict[str, str]) -> str:
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert "Traceback" not in out and "Application startup failed" not in out, out
    errors = [line for line in out.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, out
    return errors[0]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_index_built_by_another_encoder_is_one_line_and_exit_1(fake_kb_dir, tmp_path,
                                                                  workers):
    """QA24a F5: a 47-line uvicorn traceback and exit status 3 (with --workers 2: a
    traceback per worker)."""
    index = tmp_path / "index"
    shutil.copytree(fake_kb_dir, index)
    with sqlite3.connect(index / "kb.sqlite") as conn:
        conn.execute("UPDATE meta SET value = 'fake-v0' WHERE key = 'model_fingerprint'")
    conn.close()
    cmd, env = _serve(index, "--port", "8883", "--workers", workers)
    line = _refused(cmd, env)
    assert "was built with different weights of 'fake'" in line and "reindex" in line


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_unknown_encoder_backend_is_one_line_and_exit_1(tmp_path, workers):
    cmd, env = _serve(tmp_path / "index", "--port", "8883", "--workers", workers,
                      env={"KB_ENCODER_BACKEND": "foo", "KB_CACHE_DIR": str(tmp_path)},
                      model="embedded")
    line = _refused(cmd, env)
    assert line.startswith("error: unknown encoder backend 'foo' (KB_ENCODER_BACKEND)")


def test_the_log_has_times_and_a_line_per_write(fake_kb_dir, tmp_path):
    """QA24a F6: uvicorn's format had no time, and a save logged only its access line,
    without the article's id."""
    index, corpus = tmp_path / "index", tmp_path / "corpus"
    shutil.copytree(fake_kb_dir, index)
    shutil.copytree(CORPUS, corpus)
    cmd, env = _serve(index, "--port", "8884",
                      env={"KB_CORPUS_DIR": str(corpus), "KB_ADMIN_TOKEN": TOKEN})
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = "http://127.0.0.1:8884"
        for _ in range(240):
            try:
                if httpx.get(f"{base}/healthz", timeout=5).json().get("status") == "ready":
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, log_path.read_text()
            time.sleep(0.5)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        r = httpx.post(f"{base}/api/articles", headers=auth, timeout=60, data={
            "text": "Quokka loyalty ladders reward quokka customers twice.",
            "title": "Quokka ladders", "lang": "en", "id": "quokka"})
        assert r.status_code == 201, r.text
        assert httpx.delete(f"{base}/api/articles/quokka", headers=auth,
                            timeout=60).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    logged = [line for line in lines if not line.startswith("kb: loading")]
    assert logged and all(STAMPED.match(line) for line in logged), lines
    assert any("INFO uvicorn.access: " in line and '"POST /api/articles HTTP/1.1" 201' in line
               for line in logged)
    assert any(line.endswith("INFO web.writes: added article quokka [en] (1 passage)")
               for line in logged), lines
    assert any(line.endswith("INFO web.writes: removed article quokka (1 passage)")
               for line in logged), lines


def test_writes_from_the_pages_and_the_api_are_logged(tmp_path, fake_kb_dir, fake_encoder,
                                                      caplog):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    shutil.copytree(fake_kb_dir, index)
    settings = Settings(index_dir=index, corpus_dir=corpus, model="fake", admin_token=TOKEN)
    kb = KnowledgeBase.open(index, settings=settings, encoder=fake_encoder)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    caplog.set_level(logging.INFO, logger="web.writes")
    try:
        with TestClient(create_app(settings, kb=kb)) as c:
            r = c.post("/add", follow_redirects=False, data={
                "text": "Wombat weekly points reward members who visit every week.",
                "title": "Wombat points", "lang": "en", "id": "wombat", "token": TOKEN,
                "action": "save"})
            assert r.status_code == 303, r.text
            r = c.patch("/api/articles/wombat", headers=auth, json={"tags": ["loyalty"]})
            assert r.status_code == 200, r.text
            r = c.post("/articles/wombat/remove", follow_redirects=False,
                       data={"token": TOKEN, "confirm": "yes"})
            assert r.status_code == 303, r.text
            r = c.post("/articles/wombat/restore", follow_redirects=False,
                       data={"token": TOKEN})
            assert r.status_code == 303, r.text
            r = c.post("/api/concepts", headers=auth,
                       json={"id": "wombat-points", "terms": {"en": ["wombat points"]}})
            assert r.status_code == 201, r.text
            r = c.put("/api/concepts/wombat-points", headers=auth,
                      json={"terms": {"en": ["wombat points"], "de": ["Wombatpunkte"]}})
            assert r.status_code == 200, r.text
            r = c.post("/concepts", follow_redirects=False, data={
                "token": TOKEN, "action": "remove", "edit": "wombat-points",
                "confirm": "yes"})
            assert r.status_code == 303, r.text
    finally:
        kb.close()
    said = [r.getMessage() for r in caplog.records if r.name == "web.writes"]
    assert said[:3] == ["added article wombat [en] (1 passage)",
                        "edited article wombat [en] (1 passage) fields: tags",
                        "removed article wombat (1 passage)"], said
    assert said[3].startswith("restored article wombat (1 passage) from .removed/wombat.")
    assert said[4:] == ["added concept wombat-points (en)",
                        "replaced concept wombat-points (en, de)",
                        "removed concept wombat-points (en, de)"], said


def test_kb_log_format_sets_the_format_and_a_bad_one_is_refused(monkeypatch):
    from kb.errors import ConfigError
    from web import logs

    monkeypatch.setenv("KB_LOG_FORMAT", "%(levelname)s %(name)s: %(message)s")
    fmt = Settings.from_env().log_format
    assert logs.config(fmt)["formatters"]["kb"]["format"] == fmt
    monkeypatch.setenv("KB_LOG_FORMAT", "%(asctime)s %(nosuchfield)s")
    with pytest.raises(ConfigError, match="KB_LOG_FORMAT must be a Python logging format"):
        Settings.from_env()
