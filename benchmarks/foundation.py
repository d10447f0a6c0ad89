"""Foundation timings: model build (first run), ingesting the seeds, warm search latency.

Usage: .venv/bin/python benchmarks/foundation.py [--rebuild-model]
--rebuild-model builds the embedded model into a fresh temporary cache to time a
first run (about 10 s); otherwise the existing cache is used and its load is timed.
Prints a Markdown table and writes benchmarks/out/foundation.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = [
    "What is upstream marketing?", "업스트림과 다운스트림 마케팅의 차이는?",
    "Was ist Bündelung von Produkten beim Cross-Selling?", "Upselling là gì?",
    "Which KPIs should I track for cross-selling?", "충성도 프로그램의 역할은 무엇인가요?",
    "Wie sollte das Marketing mit dem Vertriebsteam zusammenarbeiten?",
    "Tiếp thị hạ nguồn là gì?",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rebuild-model", action="store_true")
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()

    from kb.core import KnowledgeBase
    from kb.embedded_model import ensure_embedded_model
    from kb.encoder import load_encoder
    from kb.settings import Settings

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache" if args.rebuild_model else None
        t = time.perf_counter()
        ensure_embedded_model(cache)
        out["model_build_s" if args.rebuild_model else "model_cache_check_s"] = (
            time.perf_counter() - t)
        t = time.perf_counter()
        encoder = load_encoder("embedded", cache_dir=cache)
        out["model_load_s"] = time.perf_counter() - t

        index = Path(tmp) / "index"
        kb = KnowledgeBase.open(index, settings=Settings(index_dir=index), encoder=encoder)
        t = time.perf_counter()
        report = kb.ingest_paths([ROOT / "corpus"])
        out["ingest_seeds_s"] = time.perf_counter() - t
        out["seed_chunks"] = report.chunks_embedded
        kb.search("warm up")
        search_ms, encode_ms = [], []
        for _ in range(args.rounds):
            for q in QUERIES:
                t = time.perf_counter()
                encoder.encode([q], kind="query")
                encode_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                kb.search(q, k=10)
                search_ms.append((time.perf_counter() - t) * 1000)
        out["search_p50_ms"] = statistics.median(search_ms)
        out["search_p95_ms"] = statistics.quantiles(search_ms, n=20)[18]
        out["encode_query_p50_ms"] = statistics.median(encode_ms)
        kb.close()
    print("| measure | value |\n|---|---|")
    for k, v in out.items():
        print(f"| {k} | {v:.2f} |" if isinstance(v, float) else f"| {k} | {v} |")
    dest = ROOT / "benchmarks" / "out" / "foundation.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
