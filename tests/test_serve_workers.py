"""`kb serve --workers 2`: two processes, one index; a write through one is seen by both."""

from __future__ import annotations

import shutil

import httpx

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
