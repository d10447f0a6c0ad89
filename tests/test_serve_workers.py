"""`kb serve --workers 2`: two processes, one index; a write through one is seen by both."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time

import httpx
import pytest

from .conftest import CORPUS

TOKEN = "workers-test-token"


def test_two_workers_share_the_index_and_see_each_others_writes(fake_kb_dir, tmp_path):
    from web.devserver import server_process

    index, corpus = tmp_path / "index", tmp_path / "corpus"
    shutil.copytree(fake_kb_dir, index)
    shutil.copytree(CORPUS, corpus)
    env = {"KB_WORKERS": "2", "KB_CORPUS_DIR": str(corpus), "KB_ADMIN_TOKEN": TOKEN}
    with server_process(index, model="fake", env=env, timeout=120,
                        log_path=tmp_path / "server.log") as (base, _proc):
        with httpx.Client(base_url=base, timeout=60) as client:
            r = client.get("/api/search", params={"q": "upstream marketing"})
            assert r.status_code == 200 and r.json()["hits"]
            added = client.post(
                "/api/articles",
                headers={"Authorization": f"Bearer {TOKEN}"},
                data={"text": "Quokka loyalty ladders reward quokka customers twice.",
                      "title": "Quokka ladders", "lang": "en"},
            )
            assert added.status_code in (200, 201), added.text
            # New connections land on either worker; every one of them must find it.
            for _ in range(8):
                with httpx.Client(base_url=base, timeout=60) as fresh:
                    hits = fresh.get("/api/search", params={"q": "quokka loyalty ladders"})
                    assert hits.status_code == 200
                    assert hits.json()["hits"][0]["title"] == "Quokka ladders"
    log = (tmp_path / "server.log").read_text().splitlines()
    pids = {line for line in log if "Started server process" in line}
    assert len(pids) == 2, pids
    # Each worker reports its own start, as a single process does.
    assert sum("web.app: ready in" in line for line in log) == 2, log


def _children(pid: int) -> list[int]:
    from pathlib import Path

    kids = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in kids.read_text().split()] if kids.exists() else []


def _alive(pid: int) -> bool:
    from pathlib import Path

    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"  # not a zombie
    except (FileNotFoundError, IndexError):
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_workers_stop_when_their_parent_is_killed(fake_kb_dir, tmp_path):
    # QA9 N7: after SIGKILL of `kb serve --workers 2` its workers went on serving the port.
    from web.devserver import server_process

    index = tmp_path / "index"
    shutil.copytree(fake_kb_dir, index)
    with server_process(index, model="fake", env={"KB_WORKERS": "2"}, timeout=120,
                        log_path=tmp_path / "server.log") as (base, proc):
        workers = [p for p in _children(proc.pid) if _alive(p)]
        # multiprocessing's spawn start adds a resource tracker beside the two workers
        assert len(workers) >= 2, workers
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        try:
            deadline = time.monotonic() + 60
            while any(_alive(p) for p in workers) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not [p for p in workers if _alive(p)]
            with pytest.raises(httpx.TransportError):
                httpx.get(f"{base}/healthz", timeout=5)
        finally:
            for p in workers:  # not left behind when the test fails
                if _alive(p):
                    os.kill(p, signal.SIGKILL)
