"""Saves from the Add page that take long run as background jobs, with a progress page.

QA: a 300 KB article took 27 s to save, and a 10 MB one would take about 15 minutes,
with the browser waiting on one request and nothing to say how far it had got. A long
save now runs on a thread; the browser is sent to ``/jobs/<id>``, which shows the stage
and a progress bar and reloads itself (a meta refresh: no script needed) until the save
is done, then goes on to the article.

A job's state is a small JSON file in the index directory (``.jobs/``), written
atomically, so any worker of ``kb serve --workers N`` can show it; beside it, what was
sent (``<id>.input.json``), so that a save that fails or is cut short comes back to the
Add page with its text. A running job writes a heartbeat; one whose process is gone,
or silent for a minute (a restarted server can get the same process id, PID 1 in a
container: QA), reads as interrupted. The save itself was atomic, and
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
KEEP_S = 24 * 3600  # jobs' files are removed after a day
HEARTBEAT_S = 5.0
STALLED_S = 60.0  # a running job silent this long is taken for interrupted
_ID = re.compile(r"^[A-Za-z0-9_-]{12}$")
# This process, as jobs record it: a process id alone can be reused by the next server.
_PROCESS = secrets.token_hex(8)
STAGES = {
    "waiting": "Waiting for another save to finish",
    "preparing": "Reading the text",
    "analyzing": "Analyzing its words",
    "embedding": "Embedding its passages and sentences",
    "indexing": "Updating the search indexes",
}
_running: set[threading.Thread] = set()


def jobs_dir(index_dir: Path) -> Path:
    return index_dir / ".jobs"


def start(index_dir: Path, work: Callable[[ProgressFn], AddResult], *, saved: str,
          article_id: str, sent: dict[str, Any]) -> str:
    """Run ``work`` (a save, given a progress callback) on a thread; return the job id.
    ``saved``: "added" or "replaced", for the article page's notice; ``article_id``:
    the article it saves; ``sent``: the form's fields, kept until the save succeeds."""
    folder = jobs_dir(index_dir)
    folder.mkdir(exist_ok=True)
    _prune(folder)
    job_id = secrets.token_urlsafe(9)
    path = folder / f"{job_id}.json"
    atomic_write_text(folder / f"{job_id}.input.json", json.dumps(sent, ensure_ascii=False))
    state: dict[str, Any] = {"id": job_id, "state": "running", "stage": "preparing",
                             "done": 0, "total": 0, "saved": saved, "article_id": article_id,
                             "pid": os.getpid(), "process": _PROCESS,
                             "started": time.time(), "updated": time.time()}
    lock = threading.Lock()  # the worker thread and the heartbeat both write the file
    finished = threading.Event()
    last = 0.0

    def write(**changes: Any) -> None:
        with lock:
            state.update(changes, updated=time.time())
            atomic_write_text(path, json.dumps(state, ensure_ascii=False))

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal last
        now = time.time()
        # Written at most twice a second (the encoder reports every batch), and at the
        # start and end of each stage.
        if now - last < 0.5 and 0 < done < total and stage == state["stage"]:
            return
        last = now
        write(stage=stage, done=done, total=total)

    def heartbeat() -> None:
        while not finished.wait(HEARTBEAT_S):
            write()

    def run() -> None:
        try:
            result = work(progress)
        except KBError as exc:
            write(state="failed", error=exc.message, status=exc.status)
        except Exception as exc:
            from kb.store import damaged

            # A damaged database is said as the API says it (QA24a F4), not "internal".
            if (error := damaged(exc, index_dir / "kb.sqlite")) is not None:
                log.error("the save of job %s failed: %s", job_id, error.message)
                write(state="failed", error=error.message, status=error.status)
                return
            log.exception("the save of job %s failed", job_id)
            write(state="failed", status=500, error="the save failed with an internal "
                  "error; the knowledge base is as it was before it")
        else:
            similar = (result.similar_to if result.similar_to != result.article_id
                       and not result.duplicate_of else None)
            write(state="done", article_id=result.article_id, notes=result.notes,
                  similar=similar, chunks=result.chunks,
                  **({"saved": "unchanged"} if result.unchanged else {}))
            (folder / f"{job_id}.input.json").unlink(missing_ok=True)
        finally:
            finished.set()
            _running.discard(threading.current_thread())

    write()
    thread = threading.Thread(target=run, name=f"kb-save-{job_id}", daemon=True)
    _running.add(thread)
    thread.start()
    threading.Thread(target=heartbeat, name=f"kb-save-{job_id}-heartbeat", daemon=True).start()
    return job_id


def read(index_dir: Path, job_id: str) -> dict[str, Any] | None:
    """The job's state, or None for an id that is not one; a running job whose server
    is gone reads as "interrupted"."""
    if not _ID.match(job_id):
        return None
    try:
        state = json.loads((jobs_dir(index_dir) / f"{job_id}.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict):
        return None
    if state.get("state") == "running" and not _alive(state):
        state["state"] = "interrupted"
    return state


def sent(index_dir: Path, job_id: str) -> dict[str, Any] | None:
    """What the job's form sent (kept until its save succeeds)."""
    try:
        fields = json.loads((jobs_dir(index_dir) / f"{job_id}.input.json").read_text())
    except (OSError, ValueError):
        return None
    return fields if isinstance(fields, dict) else None


def mark_shown(index_dir: Path, job_id: str) -> None:
    """Note that the finished job's notice was shown: later visits only redirect (QA:
    the page said "Added" again to anyone with the link, for a day)."""
    state = read(index_dir, job_id)
    if state is not None and not state.get("shown"):
        state["shown"] = True
        atomic_write_text(jobs_dir(index_dir) / f"{job_id}.json", json.dumps(state))


def wait_running(timeout: float) -> int:
    """Wait up to ``timeout`` seconds for this process's saves to finish (a server
    stopping gracefully); return how many were still running."""
    deadline = time.monotonic() + timeout
    for thread in list(_running):
        thread.join(max(0.0, deadline - time.monotonic()))
    return sum(t.is_alive() for t in _running)


def running() -> int:
    return len(_running)


def _alive(state: dict[str, Any]) -> bool:
    pid = state.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    if time.time() - float(state.get("updated", 0)) > STALLED_S:
        return False
    if pid == os.getpid():
        return bool(state.get("process") == _PROCESS)
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
