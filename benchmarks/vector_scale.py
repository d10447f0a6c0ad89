"""Vector index at scale: exact (flat) vs HNSW vs IVF-Flat at 100k and 1M vectors.

    .venv/bin/python benchmarks/vector_scale.py [--sizes 100000 1000000]
        [--out benchmarks/out/vector_scale.json]

Data. Base vectors are synthesised from real multilingual-e5-small passage and
sentence vectors (the ~14k unique vectors stored in ``benchmarks/out/eval/*/kb.sqlite``
by the retrieval eval): each synthetic vector is a real vector moved a random fraction
(0-0.5) of the way towards one of its 10 nearest real neighbours, plus isotropic
Gaussian noise whose norm equals the median real nearest-neighbour distance, then
renormalised. That keeps e5's anisotropy (all cosines high) and its local cluster
structure, while the noise stops copies of one real vector from being near-duplicates.
Queries are 1,000 real questions (XQuAD en/de/vi and KorQuAD, 250 each from
/work/shared/bench) encoded with the app's query prompt; the vectors are cached in
``benchmarks/out/vector_scale_queries.npz``.

Ground truth is exact inner-product top-100 (FAISS IndexFlatIP). The app asks each
language's index for ``SearchConfig.candidates`` (100) candidates, so recall@10 is
reported both for a k=10 search and for the top 10 of a k=100 search, and latency is
single-query (nq=1, as the app searches) at k=100.

Everything runs on ONE thread (``faiss.omp_set_num_threads(1)``, OMP_NUM_THREADS=1),
builds included, to leave the machine's other core free. A single query is
single-threaded in FAISS anyway; multi-threaded builds would be faster.

Writes JSON to ``--out`` and a Markdown table to stdout and to the same path with .md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import glob  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH = Path("/work/shared/bench")
K_APP = 100  # kb.search.SearchConfig.candidates


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- data ---------------------------------------------------------------------------
def real_vectors(pattern: str) -> tuple[np.ndarray, dict[str, Any]]:
    """Unique real e5 passage and sentence vectors from the eval indexes."""
    rows: list[np.ndarray] = []
    fingerprints = set()
    files = sorted(glob.glob(pattern))
    for f in files:
        con = sqlite3.connect(f"file:{f}?mode=ro", uri=True)
        meta = dict(con.execute("SELECT key, value FROM meta"))
        fingerprints.add(meta.get("model_fingerprint"))
        dim = int(meta["dim"])
        for table in ("chunks", "sentences"):
            for (blob,) in con.execute(f"SELECT vector FROM {table}"):  # noqa: S608
                rows.append(np.frombuffer(blob, dtype=np.float32, count=dim))
        con.close()
    if not rows:
        raise SystemExit(f"no real vectors found under {pattern}; run the retrieval eval first")
    x = np.unique(np.stack(rows), axis=0)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x, dtype=np.float32), {
        "files": [os.path.relpath(f, ROOT) for f in files],
        "stored_vectors": len(rows),
        "unique_vectors": len(x),
        "model_fingerprints": sorted(str(f) for f in fingerprints),
    }


def questions(n: int, seed: int) -> list[str]:
    """``n`` real questions, a quarter each from XQuAD en, de, vi and KorQuAD."""
    sources = [BENCH / f"xquad/xquad.{lang}.json" for lang in ("en", "de", "vi")]
    sources.append(BENCH / "korquad/KorQuAD_v1.0_dev.json")
    rng = np.random.default_rng(seed)
    out: list[str] = []
    for i, path in enumerate(sources):
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        qs = [q["question"] for a in data for p in a["paragraphs"] for q in p["qas"]]
        take = n // len(sources) + (1 if i < n % len(sources) else 0)
        out.extend(qs[j] for j in sorted(rng.choice(len(qs), take, replace=False)))
    return out


def query_vectors(n: int, seed: int, cache: Path) -> tuple[np.ndarray, dict[str, Any]]:
    texts = questions(n, seed)
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        if str(z["key"]) == key:
            return z["vectors"], {"source": "real questions (cached)", "n": len(texts),
                                  "encoder": str(z["fingerprint"])}
    log(f"encoding {len(texts)} questions with the app's encoder (one thread)")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    from kb.encoder import load_encoder

    enc = load_encoder()
    t0 = time.perf_counter()
    vecs = np.ascontiguousarray(enc.encode(texts, kind="query"), dtype=np.float32)
    log(f"encoded in {time.perf_counter() - t0:.1f} s")
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, key=key, vectors=vecs, fingerprint=enc.fingerprint)
    return vecs, {"source": "real questions", "n": len(texts), "encoder": enc.fingerprint}


def neighbour_table(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    import faiss

    idx = faiss.IndexFlatIP(x.shape[1])
    idx.add(x)
    sims, ids = idx.search(x, k + 1)
    return sims[:, 1:], ids[:, 1:]


def median_nn_distance(nn_sims: np.ndarray) -> float:
    """The median distance from a real vector to its nearest real neighbour: the noise
    norm that synthesised vectors get."""
    return float(np.median(np.sqrt(np.maximum(0.0, 2 - 2 * nn_sims[:, 0]))))


def synthesise(
    seeds: np.ndarray, nn: np.ndarray, n: int, noise: float, rng: np.random.Generator
) -> np.ndarray:
    d = seeds.shape[1]
    out = np.empty((n, d), dtype=np.float32)
    step = 100_000
    for lo in range(0, n, step):
        m = min(step, n - lo)
        a = rng.integers(len(seeds), size=m)
        b = nn[a, rng.integers(nn.shape[1], size=m)]
        t = rng.uniform(0.0, 0.5, size=(m, 1)).astype(np.float32)
        v = seeds[a] + t * (seeds[b] - seeds[a])
        v += rng.standard_normal((m, d), dtype=np.float32) * np.float32(noise / math.sqrt(d))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        out[lo:lo + m] = v
    return out


def structure(base: np.ndarray, queries: np.ndarray, gt_sims: np.ndarray,
              rng: np.random.Generator) -> dict[str, float]:
    """Nearest-neighbour statistics, to compare the synthetic set with the real one."""
    import faiss

    sample = base[rng.choice(len(base), min(1000, len(base)), replace=False)]
    idx = faiss.IndexFlatIP(base.shape[1])
    idx.add(base)
    s, _ = idx.search(sample, 11)
    del idx
    return {
        "base_nn1_cos_median": round(float(np.median(s[:, 1])), 4),
        "base_nn10_cos_median": round(float(np.median(s[:, 10])), 4),
        "query_top1_cos_median": round(float(np.median(gt_sims[:, 0])), 4),
        "query_top10_cos_median": round(float(np.median(gt_sims[:, 9])), 4),
        "query_top100_cos_median": round(float(np.median(gt_sims[:, 99])), 4),
        # relative gap between the 10th and 11th neighbour: small gaps make top-10 hard
        "query_gap10_11_median": round(float(np.median(gt_sims[:, 9] - gt_sims[:, 10])), 5),
    }


# -- measuring ----------------------------------------------------------------------
def exact_topk(
    base: np.ndarray, queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, float]:
    import faiss

    idx = faiss.IndexFlatIP(base.shape[1])
    idx.add(base)
    t0 = time.perf_counter()
    sims, ids = idx.search(queries, k)
    return sims, ids, time.perf_counter() - t0


def recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    hits = sum(len(set(f[:k].tolist()) & set(t[:k].tolist()))
               for f, t in zip(found, truth, strict=True))
    return hits / (k * len(truth))


def latencies(index: Any, queries: np.ndarray, k: int, n: int) -> dict[str, float]:
    qs = queries[:n]
    for q in qs[:5]:  # warm up
        index.search(q.reshape(1, -1), k)
    times = np.empty(len(qs))
    for i, q in enumerate(qs):
        q1 = q.reshape(1, -1)
        t0 = time.perf_counter()
        index.search(q1, k)
        times[i] = time.perf_counter() - t0
    return {
        "p50_ms": round(float(np.percentile(times, 50)) * 1e3, 3),
        "p95_ms": round(float(np.percentile(times, 95)) * 1e3, 3),
        "mean_ms": round(float(times.mean()) * 1e3, 3),
        "latency_queries": len(qs),
    }


def index_bytes(index: Any) -> int:
    import faiss

    with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks" / "out") as tmp:
        path = os.path.join(tmp, "i.faiss")
        faiss.write_index(index, path)
        return os.path.getsize(path)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def evaluate(index: Any, queries: np.ndarray, gt: np.ndarray, lat_n: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    _, found10 = index.search(queries, 10)
    _, found100 = index.search(queries, K_APP)
    batch_s = time.perf_counter() - t0
    return {
        "recall10_k10": round(recall(found10, gt, 10), 4),
        "recall10_k100": round(recall(found100, gt, 10), 4),
        "recall100_k100": round(recall(found100, gt, 100), 4),
        "batch_search_s": round(batch_s, 2),
        **latencies(index, queries, K_APP, lat_n),
    }


def try_remove(index: Any, queries: np.ndarray, gt: np.ndarray) -> dict[str, Any]:
    """Remove every query's exact top-1 and check no search returns those ids again."""
    gone = np.unique(gt[:, 0]).astype(np.int64)
    t0 = time.perf_counter()
    try:
        removed = int(index.remove_ids(gone))
    except RuntimeError as exc:
        return {"remove_ids": False, "error": str(exc).strip().splitlines()[-1][:200]}
    secs = time.perf_counter() - t0
    _, found = index.search(queries, K_APP)
    leaked = int(np.isin(found, gone).sum())
    return {"remove_ids": removed == len(gone) and leaked == 0, "removed": removed,
            "asked": len(gone), "remove_s": round(secs, 3), "leaked_after_remove": leaked}


def run_flat(base: np.ndarray, queries: np.ndarray, gt: np.ndarray, lat_n: int) -> list[dict]:
    import faiss

    t0 = time.perf_counter()
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(base.shape[1]))
    index.add_with_ids(base, np.arange(len(base), dtype=np.int64))
    build = time.perf_counter() - t0
    row = {"kind": "flat", "params": "", "build_s": round(build, 2),
           "bytes": index_bytes(index), **evaluate(index, queries, gt, lat_n)}
    row.update(try_remove(index, queries, gt))
    log(f"flat: {row}")
    return [row]


def run_hnsw(base: np.ndarray, queries: np.ndarray, gt: np.ndarray, m: int, ef_c: int,
             ef_searches: list[int], lat_n: int) -> list[dict]:
    import faiss

    t0 = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(base.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = ef_c
    index = faiss.IndexIDMap2(hnsw)
    index.add_with_ids(base, np.arange(len(base), dtype=np.int64))
    build = time.perf_counter() - t0
    nbytes = index_bytes(index)
    rows = []
    for ef in ef_searches:
        hnsw.hnsw.efSearch = ef
        row = {"kind": "hnsw", "params": f"M={m} efC={ef_c} efSearch={ef}", "M": m,
               "efConstruction": ef_c, "efSearch": ef, "build_s": round(build, 1),
               "bytes": nbytes, **evaluate(index, queries, gt, lat_n)}
        log(f"hnsw: {row}")
        rows.append(row)
    rows[-1].update(try_remove(index, queries, gt))
    return rows


def run_ivf(base: np.ndarray, queries: np.ndarray, gt: np.ndarray, nlist: int,
            nprobes: list[int], lat_n: int, train_per_list: int, niter: int,
            rng: np.random.Generator) -> list[dict]:
    import faiss

    d = base.shape[1]
    t0 = time.perf_counter()
    quantizer = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = niter
    index.cp.max_points_per_centroid = train_per_list
    n_train = min(len(base), train_per_list * nlist)
    sample = base[np.sort(rng.choice(len(base), n_train, replace=False))]
    index.train(sample)
    train = time.perf_counter() - t0
    index.add_with_ids(base, np.arange(len(base), dtype=np.int64))
    build = time.perf_counter() - t0
    nbytes = index_bytes(index)
    imbalance = float(index.invlists.imbalance_factor())
    rows = []
    for nprobe in nprobes:
        index.nprobe = nprobe
        row = {"kind": "ivf", "params": f"nlist={nlist} nprobe={nprobe}", "nlist": nlist,
               "nprobe": nprobe, "train_points": n_train, "niter": niter,
               "train_s": round(train, 1), "build_s": round(build, 1), "bytes": nbytes,
               "imbalance": round(imbalance, 2), **evaluate(index, queries, gt, lat_n)}
        log(f"ivf: {row}")
        rows.append(row)
    # incremental add: 1% new vectors without retraining
    extra = base[: max(1, len(base) // 100)]
    t1 = time.perf_counter()
    index.add_with_ids(extra, np.arange(len(base), len(base) + len(extra), dtype=np.int64))
    rows[-1]["add_1pct_s"] = round(time.perf_counter() - t1, 3)
    rows[-1].update(try_remove(index, queries, gt))
    return rows


def run_app(base: np.ndarray, queries: np.ndarray, gt: np.ndarray, lat_n: int,
            rng: np.random.Generator, seeds: np.ndarray, nn: np.ndarray,
            noise: float) -> dict[str, Any]:
    """The app's own code path: kb.vectors.VectorIndex with its default policy: build,
    single-query search, a write that deletes ~1,000 chunks and adds 1,000 (applied to
    a copy, as kb.core does), and save/load."""
    from kb.vectors import VectorConfig, VectorIndex

    n, d = base.shape
    ids = np.arange(n, dtype=np.int64)
    vi = VectorIndex(d, VectorConfig())
    t0 = time.perf_counter()
    vi.build("xx", ids, base)
    build_s = time.perf_counter() - t0
    out: dict[str, Any] = {"describe": vi.describe()["langs"]["xx"], "build_s": round(build_s, 1)}
    found = np.full((len(queries), K_APP), -1, dtype=np.int64)
    times = np.empty(len(queries))
    for i, q in enumerate(queries):
        t1 = time.perf_counter()
        f, _ = vi.search("xx", q, K_APP)
        times[i] = time.perf_counter() - t1
        found[i, : len(f)] = f
    out.update({
        "recall10_k100": round(recall(found, gt, 10), 4),
        "recall100_k100": round(recall(found, gt, 100), 4),
        "p50_ms": round(float(np.percentile(times[5:lat_n], 50)) * 1e3, 3),
        "p95_ms": round(float(np.percentile(times[5:lat_n], 95)) * 1e3, 3),
    })
    gone = np.unique(gt[:, 0])
    keep = ~np.isin(ids, gone)
    added = synthesise(seeds, nn, 1000, noise, rng)
    ids2 = np.concatenate([ids[keep], np.arange(n, n + 1000, dtype=np.int64)])
    vecs2 = np.concatenate([base[keep], added])
    nxt = vi.copy()
    t0 = time.perf_counter()
    nxt.build("xx", ids2, vecs2)
    out["write_s"] = round(time.perf_counter() - t0, 2)
    out["write"] = f"delete {len(gone)} + add 1000"
    out["write_in_place"] = nxt.describe()["langs"]["xx"] == {
        **out["describe"], "vectors": len(ids2)}
    del vecs2
    leaked = sum(int(np.isin(nxt.search("xx", q, K_APP)[0], gone).sum()) for q in queries)
    new_found = sum(int(nxt.search("xx", v, 1)[0][0] == n + i) for i, v in enumerate(added[:200]))
    out.update({"leaked_after_delete": leaked, "added_found_top1": f"{new_found}/200",
                "old_copy_unchanged": vi.size("xx") == n})
    del vi
    gc.collect()
    with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks" / "out") as tmp:
        t0 = time.perf_counter()
        nxt.save(Path(tmp) / "v")
        out["save_s"] = round(time.perf_counter() - t0, 2)
        out["saved_mb"] = round(sum(f.stat().st_size for f in (Path(tmp) / "v").iterdir())
                                / 2**20)
        t0 = time.perf_counter()
        back = VectorIndex.load(Path(tmp) / "v", VectorConfig())
        out["load_s"] = round(time.perf_counter() - t0, 2)
        out["load_keeps_params"] = back.describe() == nxt.describe()
    log(f"app: {out}")
    return out


# -- main ---------------------------------------------------------------------------
def policy() -> dict[str, Any]:
    """kb.vectors' defaults, recorded next to the numbers they were chosen from."""
    from kb import vectors

    cfg = vectors.VectorConfig()
    return {"threshold": cfg.threshold, "nprobe": cfg.nprobe,
            "nlist_rule": f"{vectors.NLIST_PER_SQRT:g}*sqrt(N)",
            "nlist_at_100k": cfg.nlist_for(100_000), "nlist_at_1m": cfg.nlist_for(1_000_000)}


def table(results: dict[str, Any]) -> str:
    real, m = results["real"], results["machine"]
    lines = [
        f"Vectors: {real['unique_vectors']:,} real e5 vectors + noise (norm "
        f"{results['noise_norm']}); queries: {results['queries']['n']} "
        f"{results['queries']['source']}. FAISS {m['faiss']}, {m['faiss_threads']} thread "
        f"(of {m['cpus']} CPUs). Latency: single query, k={results['k_app']}.",
        "",
        "| data | base NN1 cos | base NN10 cos | query top1 cos | query top10 cos | "
        "query top100 cos |",
        "|---|---|---|---|---|---|",
        f"| real ({real['unique_vectors']:,}) | {real['nn1_cos_median']} | "
        f"{real['nn10_cos_median']} | {real['query_top1_cos_median']} | "
        f"{real['query_top10_cos_median']} | |",
    ]
    for size in results["sizes"]:
        st = size["structure"]
        lines.append(f"| synthetic {size['n']:,} | {st['base_nn1_cos_median']} | "
                     f"{st['base_nn10_cos_median']} | {st['query_top1_cos_median']} | "
                     f"{st['query_top10_cos_median']} | {st['query_top100_cos_median']} |")
    if any(size["rows"] for size in results["sizes"]):  # not with --app-only
        lines += [
            "",
            "| N | kind | params | build s | recall@10 (k=10) | recall@10 (k=100) | "
            "recall@100 | p50 ms | p95 ms | index MB | remove_ids |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
    for size in results["sizes"]:
        for r in size["rows"]:
            rm = r.get("remove_ids")
            lines.append(
                f"| {size['n']:,} | {r['kind']} | {r['params']} | {r['build_s']} | "
                f"{r['recall10_k10']:.3f} | {r['recall10_k100']:.3f} | "
                f"{r['recall100_k100']:.3f} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | "
                f"{r['bytes'] / 2**20:.0f} | {'' if rm is None else ('yes' if rm else 'no')} |"
            )
    for size in results["sizes"]:
        for sk in size.get("skipped", []):
            lines.append(f"| {size['n']:,} | {sk['kind']} | M={sk['M']} "
                         f"efC={sk['efConstruction']} | not built: estimated "
                         f"{sk['estimated_build_s']} s | | | | | | | |")
    lines += ["", "The app's code path (kb.vectors.VectorIndex, default policy), one language:",
              "", "| N | index | build s | recall@10 | recall@100 | p50 ms | p95 ms | "
              "write (delete+add) s | deleted ids returned | save s | load s | saved MB |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for size in results["sizes"]:
        a = size.get("app")
        if a:
            desc = " ".join(f"{k}={v}" for k, v in a["describe"].items() if k != "vectors")
            lines.append(
                f"| {size['n']:,} | {desc} | {a['build_s']} | {a['recall10_k100']:.3f} | "
                f"{a['recall100_k100']:.3f} | {a['p50_ms']:.2f} | {a['p95_ms']:.2f} | "
                f"{a['write_s']} ({a['write']}) | {a['leaked_after_delete']} | {a['save_s']} | "
                f"{a['load_s']} | {a['saved_mb']} |")
    if results.get("sweep"):
        pol = results["policy"]
        lines += ["", f"Threshold sweep: flat vs the app's IVF policy (nlist = "
                  f"{pol['nlist_rule']}, nprobe={pol['nprobe']}), single-query k=100:", "",
                  "| N | flat p50 ms | flat p95 ms | ivf params | ivf build s | "
                  "ivf recall@10 | ivf recall@100 | ivf p50 ms | ivf p95 ms |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for s in results["sweep"]:
            r = s["ivf"]
            lines.append(f"| {s['n']:,} | {s['flat_p50_ms']:.2f} | {s['flat_p95_ms']:.2f} | "
                         f"{r['params']} | {r['build_s']} | {r['recall10_k100']:.3f} | "
                         f"{r['recall100_k100']:.3f} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} |")
    return "\n".join(lines)


def sweep_point(seeds: np.ndarray, nn: np.ndarray, noise: float, queries: np.ndarray,
                n: int, args: argparse.Namespace, rng: np.random.Generator) -> dict[str, Any]:
    """Flat vs IVF as kb.vectors builds it by default (VectorConfig())."""
    import faiss

    from kb.vectors import VectorConfig

    cfg = VectorConfig()
    base = synthesise(seeds, nn, n, noise, rng)
    _, gt, _ = exact_topk(base, queries, K_APP)
    flat = faiss.IndexFlatIP(base.shape[1])
    flat.add(base)
    lat_n = min(args.latency_queries, 300)
    flat_lat = latencies(flat, queries, K_APP, lat_n)
    del flat
    rows = run_ivf(base, queries, gt, cfg.nlist_for(n), [cfg.nprobe], lat_n,
                   cfg.train_per_list, cfg.niter, rng)
    return {"n": n, "flat_p50_ms": flat_lat["p50_ms"], "flat_p95_ms": flat_lat["p95_ms"],
            "ivf": rows[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--sweep", type=int, nargs="*",
                    default=[10_000, 25_000, 50_000, 100_000, 200_000, 400_000],
                    help="sizes for the flat-vs-IVF threshold sweep (flat and the app's "
                         "default IVF only)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/out/vector_scale.json")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--latency-queries", type=int, default=1000,
                    help="single-query timings per config (flat at >=1M uses at most 200)")
    ap.add_argument("--noise", type=float, default=1.0,
                    help="noise norm, in units of the median real nearest-neighbour distance")
    ap.add_argument("--hnsw", default="16:40,32:40",
                    help="HNSW M:efConstruction pairs, comma separated")
    ap.add_argument("--ef-search", type=int, nargs="+", default=[32, 64, 128, 256])
    ap.add_argument("--hnsw-budget-s", type=float, default=420,
                    help="skip an HNSW build whose estimated time (from the previous size) "
                         "exceeds this; its cost is reported as an estimate")
    ap.add_argument("--nlist", default="auto",
                    help="comma-separated nlist values per size, or auto (4*sqrt(N) "
                         "and sqrt(N))")
    ap.add_argument("--nprobe", type=int, nargs="+", default=[8, 16, 32, 64, 128])
    ap.add_argument("--train-per-list", type=int, default=64)
    ap.add_argument("--niter", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--real", default=str(ROOT / "benchmarks/out/eval/*/kb.sqlite"),
                    help="glob of kb.sqlite files whose stored e5 vectors seed the synthesis")
    ap.add_argument("--app-only", action="store_true",
                    help="measure only kb.vectors' own code path at each size")
    args = ap.parse_args()

    import faiss

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    t_start = time.perf_counter()

    seeds, real_info = real_vectors(args.real)
    nn_sims, nn = neighbour_table(seeds, 10)
    noise = args.noise * median_nn_distance(nn_sims)
    queries, q_info = query_vectors(args.queries, args.seed,
                                    args.out.parent / "vector_scale_queries.npz")
    real_gt_sims, _, _ = exact_topk(seeds, queries, K_APP)
    real_info.update({
        "nn1_cos_median": round(float(np.median(nn_sims[:, 0])), 4),
        "nn10_cos_median": round(float(np.median(nn_sims[:, 9])), 4),
        "nn1_dist_median": round(median_nn_distance(nn_sims), 4),
        "query_top1_cos_median": round(float(np.median(real_gt_sims[:, 0])), 4),
        "query_top10_cos_median": round(float(np.median(real_gt_sims[:, 9])), 4),
    })
    log(f"real: {real_info}; noise norm {noise:.3f}; queries {q_info}")

    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "faiss_threads": 1, "faiss": faiss.__version__,
                    "python": platform.python_version(), "platform": platform.platform()},
        "real": real_info, "queries": q_info, "noise_norm": round(noise, 4),
        "k_app": K_APP, "args": {k: str(v) for k, v in vars(args).items()},
        "sizes": [], "sweep": [], "policy": policy(),
    }
    hnsw_specs = [tuple(int(x) for x in s.split(":")) for s in args.hnsw.split(",") if s]
    hnsw_rate: dict[tuple[int, int], float] = {}  # seconds per vector at the last size

    for n in sorted(args.sizes):
        log(f"== N={n:,}")
        t0 = time.perf_counter()
        base = synthesise(seeds, nn, n, noise, rng)
        synth_s = time.perf_counter() - t0
        gt_sims, gt, gt_s = exact_topk(base, queries, K_APP)
        info: dict[str, Any] = {"n": n, "synth_s": round(synth_s, 1),
                                "exact_batch_s": round(gt_s, 1),
                                "structure": structure(base, queries, gt_sims, rng), "rows": [],
                                "skipped": []}
        log(f"structure {info['structure']}; exact batch {gt_s:.1f}s")
        lat_n = args.latency_queries
        if args.app_only:
            info["app"] = run_app(base, queries, gt, lat_n, rng, seeds, nn, noise)
            results["sizes"].append(info)
            del base
            gc.collect()
            continue
        info["rows"] += run_flat(base, queries, gt, min(lat_n, 200) if n >= 500_000 else lat_n)
        nlists = ([max(16, round(4 * math.sqrt(n))), max(16, round(math.sqrt(n)))]
                  if args.nlist == "auto" else [int(x) for x in args.nlist.split(",")])
        for nlist in nlists:
            info["rows"] += run_ivf(base, queries, gt, nlist, args.nprobe, lat_n,
                                    args.train_per_list, args.niter, rng)
            gc.collect()
        for m, ef_c in hnsw_specs:
            est = hnsw_rate.get((m, ef_c), 0.0) * n * (1 + math.log10(n / 1e5) * 0.15)
            if est > args.hnsw_budget_s:
                info["skipped"].append({"kind": "hnsw", "M": m, "efConstruction": ef_c,
                                        "estimated_build_s": round(est),
                                        "reason": "estimated build above "
                                                  f"{args.hnsw_budget_s:.0f} s on one thread"})
                log(f"skip hnsw M={m} efC={ef_c}: estimated {est:.0f} s")
                continue
            rows = run_hnsw(base, queries, gt, m, ef_c, args.ef_search, lat_n)
            hnsw_rate[(m, ef_c)] = rows[0]["build_s"] / n
            info["rows"] += rows
            gc.collect()
        info["app"] = run_app(base, queries, gt, lat_n, rng, seeds, nn, noise)
        gc.collect()
        info["peak_rss_mb"] = round(rss_mb())
        results["sizes"].append(info)
        del base
        gc.collect()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))

    for n in sorted(args.sweep):
        log(f"== sweep N={n:,}")
        results["sweep"].append(sweep_point(seeds, nn, noise, queries, n, args, rng))
        args.out.write_text(json.dumps(results, indent=2))

    results["total_s"] = round(time.perf_counter() - t_start, 1)
    args.out.write_text(json.dumps(results, indent=2))
    md = table(results)
    args.out.with_suffix(".md").write_text(md + "\n")
    print(md)
    log(f"done in {results['total_s']:.0f} s")


if __name__ == "__main__":
    main()
