"""Run ``kb serve`` in a child process on a free port: for browser tests and benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

__all__ = ["free_port", "running_server", "server_process"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(
    index_dir: Path, *, model: str | None = None, timeout: float = 600.0,
    log_path: Path | None = None, env: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """Start ``kb --index INDEX_DIR serve`` on a free loopback port; yield its base URL.

    See :func:`server_process`, which also yields the process (benchmarks read its RSS).
    """
    with server_process(index_dir, model=model, timeout=timeout, log_path=log_path,
                        env=env) as (base, _proc):
        yield base


@contextmanager
def server_process(
    index_dir: Path, *, model: str | None = None, timeout: float = 600.0,
    log_path: Path | None = None, env: Mapping[str, str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start ``kb --index INDEX_DIR serve`` on a free loopback port; yield (base URL, process).

    Waits until ``/healthz`` reports ready (the lifespan loads the model and index), and
    stops the server on exit. The server's output goes to ``log_path`` (or is dropped).
    ``env`` adds variables for the server, e.g. ``KB_CORPUS_DIR`` (where uploads are
    saved) and ``KB_ADMIN_TOKEN`` (which enables writes over HTTP).
    """
    import httpx

    port = free_port()
    cmd = [sys.executable, "-m", "kb.cli", "--index", str(index_dir)]
    if model:
        cmd += ["--model", model]
    cmd += ["serve", "--host", "127.0.0.1", "--port", str(port)]
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"kb serve exited with status {proc.returncode}; see {log_path}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).json().get("ok"):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"kb serve was not ready after {timeout:.0f}s")
            time.sleep(0.5)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log_path:
            out.close()  # type: ignore[union-attr]
