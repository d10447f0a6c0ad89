"""Saves from the Add page that take long run as background jobs, with a progress page.

QA: a 300 KB article took 27 s to save, and a 10 MB one would take about 15 minutes,
with the browser waiting on one request and nothing to say how far it had got. A long
save now runs on a thread; the browser is sent to ``/jobs/<id>``, which shows the stage
and a progress bar and reloads itself (a meta refresh: no script needed) until the save
is done, then goes on to the article.

A job's state is a small JSON file in the index directory (``.jobs/``), written
atomically, so any worker of ``kb serve --workers N`` can show it. A job whose process
has died (a restart mid-save) says so: the save itself was atomic, and
``adding.recover_pending`` finishes or sets aside what it left.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.errors import KBError
from kb.store import atomic_write_text

if TYPE_CHECKING:
    from kb.adding import AddResult
    from kb.core import ProgressFn

log = logging.getLogger("kb.web")

# Texts longer than this are saved as a job: about 30 paragraphs, a few seconds of work.
JOB_CHARS = 20_000
KEEP_S = 24 * 3600  # finished jobs' files are removed after a day
_ID = re.compile(r"^[A-Za-z0-9_-]{12}$")
STAGES = {
    "preparing": "Reading the text",
    "analyzing": "Analyzing its words",
    "embedding": "Embedding its passages and sentences",
    "indexing": "Updating the search indexes",
}


def jobs_dir(index_dir: Path) -> Path:
    return index_dir / ".jobs"


def start(index_dir: Path, work: Callable[[ProgressFn], AddResult], *, saved: str) -> str:
    """Run ``work`` (a save, given a progress callback) on a thread; return the job id.
    ``saved``: "added" or "replaced", for the article page's notice."""
    folder = jobs_dir(index_dir)
    folder.mkdir(exist_ok=True)
    _prune(folder)
    job_id = secrets.token_urlsafe(9)
    path = folder / f"{job_id}.json"
    state: dict[str, Any] = {"id": job_id, "state": "running", "stage": "preparing",
                             "done": 0, "total": 0, "saved": saved, "pid": os.getpid(),
                             "started": time.time(), "updated": time.time()}
    atomic_write_text(path, json.dumps(state))
    last = 0.0

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal last
        now = time.time()
        # Written at most twice a second (the encoder reports every batch), and at the
        # start and end of each stage.
        if now - last < 0.5 and 0 < done < total and stage == state["stage"]:
            return
        last = now
        state.update(stage=stage, done=done, total=total, updated=now)
        atomic_write_text(path, json.dumps(state))

    def run() -> None:
        try:
            result = work(progress)
        except KBError as exc:
            state.update(state="failed", error=exc.message, status=exc.status)
        except Exception:
            log.exception("the save of job %s failed", job_id)
            state.update(state="failed", status=500, error="the save failed with an "
                         "internal error; the knowledge base is as it was before it")
        else:
            similar = (result.similar_to if result.similar_to != result.article_id
                       and not result.duplicate_of else None)
            state.update(state="done", article_id=result.article_id, notes=result.notes,
                         similar=similar, chunks=result.chunks)
        state["updated"] = time.time()
        atomic_write_text(path, json.dumps(state))

    threading.Thread(target=run, name=f"kb-save-{job_id}", daemon=True).start()
    return job_id


def read(index_dir: Path, job_id: str) -> dict[str, Any] | None:
    """The job's state, or None for an id that is not one; a running job whose process
    is gone reads as "interrupted"."""
    if not _ID.match(job_id):
        return None
    try:
        state = json.loads((jobs_dir(index_dir) / f"{job_id}.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict):
        return None
    if state.get("state") == "running" and not _alive(state.get("pid")):
        state["state"] = "interrupted"
    return state


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: it exists
    return True


def _prune(folder: Path) -> None:
    cutoff = time.time() - KEEP_S
    for f in folder.glob("*.json"):
        try:
            if f.stat().st_mtime < cutoff:
                f.unlink()
        except OSError:
            pass
