"""HTTP latency of /api/search and /api/ask on the seed corpus, warm, real model.

Usage: .venv/bin/python benchmarks/http_latency.py [--requests 64] [--index DIR]

Builds (or reuses) an index of corpus/ with the embedded model, starts ``kb serve`` on
a free loopback port, warms it up, then sends the same rotating question set at
concurrency 1 and 8 from a bounded thread pool (one httpx client per thread) and
reports p50/p95 per endpoint. The bare query-encoding time is measured in this process
with the same model, for comparison. Prints a Markdown table and writes
benchmarks/out/http_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "What is upstream marketing?", "업스트림과 다운스트림 마케팅의 차이는?",
    "Was ist Bündelung von Produkten beim Cross-Selling?", "Upselling là gì?",
    "Which KPIs should I track for cross-selling?", "충성도 프로그램의 역할은 무엇인가요?",
    "Wie sollte das Marketing mit dem Vertriebsteam zusammenarbeiten?",
    "Tiếp thị hạ nguồn là gì?", "브랜드 메시지를 고객 세그먼트에 전달하는 방법",
    "What is the capital of France?", "Wie backe ich Brot?", "Mèo ăn gì?",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def build_index(index_dir: Path) -> None:
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    kb = KnowledgeBase.open(index_dir, settings=Settings(index_dir=index_dir))
    report = kb.ingest_paths([ROOT / "corpus"])
    kb.close()
    print(f"index: {index_dir} ({len(report.added)} added, {len(report.unchanged)} unchanged)")


def encoding_ms(rounds: int) -> list[float]:
    """Bare query encoding, one question at a time, like a request does."""
    from kb.encoder import load_encoder

    enc = load_encoder("embedded")
    for q in QUESTIONS:  # warm-up
        enc.encode([q], kind="query")
    times = []
    for i in range(rounds):
        q = QUESTIONS[i % len(QUESTIONS)]
        t = time.perf_counter()
        enc.encode([q], kind="query")
        times.append((time.perf_counter() - t) * 1000)
    return times


def load(base: str, path: str, n: int, concurrency: int) -> tuple[list[float], int]:
    """``n`` GETs of ``path`` over a rotating question set; (latencies in ms, errors)."""
    import httpx

    local = threading.local()

    def one(i: int) -> float | None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=base, timeout=120)
        params = {"q": QUESTIONS[i % len(QUESTIONS)]}
        if path == "/api/search":
            params["k"] = "10"
        t = time.perf_counter()
        r = client.get(path, params=params)
        took = (time.perf_counter() - t) * 1000
        return took if r.status_code == 200 else None

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, range(n)))
    ok = [r for r in results if r is not None]
    return ok, len(results) - len(ok)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=64, help="requests per endpoint and level")
    ap.add_argument("--index", type=Path, help="index directory (default: a temporary one)")
    args = ap.parse_args()

    from web.devserver import running_server

    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        index_dir = args.index or Path(tmp) / "index"
        build_index(index_dir)
        rows = []
        with running_server(index_dir, log_path=Path(tmp) / "server.log") as base:
            for path in ("/api/search", "/api/ask"):  # warm-up: every question once
                load(base, path, len(QUESTIONS), 1)
            for concurrency in (1, 8):
                for path in ("/api/search", "/api/ask"):
                    started = time.perf_counter()
                    times, errors = load(base, path, args.requests, concurrency)
                    wall = time.perf_counter() - started
                    rows.append({
                        "endpoint": path, "concurrency": concurrency, "requests": args.requests,
                        "errors": errors, "p50_ms": round(percentile(times, 0.5), 1),
                        "p95_ms": round(percentile(times, 0.95), 1),
                        "throughput_rps": round(len(times) / wall, 2),
                    })
                    print(f"  {path} c={concurrency}: p50 {rows[-1]['p50_ms']} ms")
    enc = encoding_ms(args.requests)
    encode = {"p50_ms": round(percentile(enc, 0.5), 1), "p95_ms": round(percentile(enc, 0.95), 1),
              "mean_ms": round(statistics.mean(enc), 1)}
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1min_at_end": load_avg},
        "http": rows, "query_encoding": encode,
    }
    out = ROOT / "benchmarks" / "out" / "http_latency.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))

    print(f"\nLatency over HTTP, warm, seed corpus, {os.cpu_count()} CPUs "
          f"(1-min load average at the end: {load_avg})\n")
    print("| endpoint | concurrency | p50 ms | p95 ms | req/s | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| `{r['endpoint']}` | {r['concurrency']} | {r['p50_ms']} | {r['p95_ms']} | "
              f"{r['throughput_rps']} | {r['errors']} |")
    print(f"| bare query encoding (in process) | 1 | {encode['p50_ms']} | {encode['p95_ms']} "
          "| | |")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
