"""Adding articles over HTTP with the real model: upload-to-searchable time, the seeds'
translation families, and the bad-input table.

Usage: .venv/bin/python benchmarks/upload_latency.py [--runs 3] [--shared ../shared]

1. Copies corpus/ to a temporary corpus directory and runs ``kb --index TMP -v ingest``
   on it (embedded model): the output lists the translation families found and every
   alignment score that family detection computed.
2. Starts ``kb serve`` on that index and corpus with an admin token, then, ``--runs``
   times, POSTs a new ~2,500-word ("5-page") English article (consecutive XQuAD
   paragraphs, different ones each run) and polls ``/api/search`` with one of its
   XQuAD questions until the article is among the hits. Each run reports the POST
   time, the time from the POST's answer to the first search that returns the article,
   and the total, measured end to end over HTTP.
3. Sends every bad input of tests/test_web_writes.py to the same server and checks that
   nothing changed (index version, article list with chunk counts, corpus directory).

Prints Markdown and writes benchmarks/out/upload_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOKEN = "bench-" + os.urandom(12).hex()
WORDS = 2500  # about five printed pages


def ingest_seeds(index: Path, corpus: Path) -> dict[str, Any]:
    """``kb ingest`` on a copy of the corpus; the families and all alignment scores."""
    cmd = [str(ROOT / ".venv" / "bin" / "kb"), "--index", str(index), "-v", "ingest"]
    started = time.perf_counter()
    out = subprocess.run(cmd, env={**os.environ, "KB_CORPUS_DIR": str(corpus)},
                         capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    families = [{"a": a, "b": b, "score": float(s)} for a, b, s in re.findall(
        r"translation family: (\S+) ~ (\S+) \(alignment ([\d.]+)\)", out.stdout)]
    scores: dict[tuple[str, str], float] = {}
    for a, b, s in re.findall(r"alignment (\S+) ~ (\S+): ([\d.]+)", out.stderr):
        scores[tuple(sorted((a, b)))] = float(s)  # type: ignore[index]
    return {
        "seconds": round(seconds, 1),
        "stdout": out.stdout.strip().splitlines(),
        "families": families,
        "alignments": [{"a": a, "b": b, "score": s} for (a, b), s in sorted(scores.items())],
    }


def articles(shared: Path, runs: int, words: int) -> list[dict[str, Any]]:
    """``runs`` English articles of consecutive XQuAD paragraphs, about ``words`` words
    each (different paragraphs each run), with a question about a paragraph in the
    middle to search for."""
    data = json.loads((shared / "bench" / "xquad" / "xquad.en.json").read_text())
    paras = [(a["title"].replace("_", " "), p) for a in data["data"] for p in a["paragraphs"]]
    out = []
    pos = 0
    for run in range(runs):
        chunk: list[tuple[str, dict[str, Any]]] = []
        while sum(len(p["context"].split()) for _, p in chunk) < words:
            chunk.append(paras[pos])
            pos += 1
        topics = list(dict.fromkeys(t for t, _ in chunk))
        title = f"Benchmark reader {run + 1}: " + ", ".join(topics)
        body = "\n\n".join(p["context"] for _, p in chunk)
        middle = chunk[len(chunk) // 2][1]
        out.append({"title": title, "text": f"# {title}\n\n{body}\n",
                    "words": len(body.split()), "query": middle["qas"][0]["question"]})
    return out


def measure(base: str, art: dict[str, Any], run: int) -> dict[str, Any]:
    import httpx

    name = f"benchmark-reader-{run + 1}.txt"
    with httpx.Client(base_url=base, timeout=600) as client:
        t0 = time.perf_counter()
        r = client.post("/api/articles", files={"file": (name, art["text"].encode())},
                        headers={"Authorization": f"Bearer {TOKEN}"})
        t1 = time.perf_counter()
        r.raise_for_status()
        body = r.json()
        polls = 0
        while True:
            polls += 1
            hits = client.get("/api/search", params={"q": art["query"], "k": 5}).json()["hits"]
            if any(h["article_id"] == body["article_id"] for h in hits):
                break
            if time.perf_counter() - t1 > 120:
                raise TimeoutError("the article never showed up in /api/search")
        t2 = time.perf_counter()
        client.get("/api/search", params={"q": art["query"], "k": 5})
        warm = time.perf_counter() - t2
    return {
        "run": run + 1, "article_id": body["article_id"], "words": art["words"],
        "chars": len(art["text"]), "chunks": body["chunks"], "family": body["family"],
        "post_s": round(t1 - t0, 2), "server_add_s": body["seconds"], **body["stats"],
        "first_search_s": round(t2 - t1, 2), "searches": polls,
        "next_search_s": round(warm, 2),
        "upload_to_searchable_s": round(t2 - t0, 2), "query": art["query"],
    }


def state(base: str, corpus: Path) -> tuple[Any, ...]:
    """What must not change under bad input: index version, articles, corpus files."""
    import httpx

    version = httpx.get(f"{base}/healthz", timeout=60).json()["index_version"]
    arts = httpx.get(f"{base}/api/articles", timeout=60).json()["articles"]
    files = sorted((str(p.relative_to(corpus)), p.stat().st_size) for p in corpus.rglob("*"))
    return version, sorted((a["id"], a["chunks"]) for a in arts), files


def bad_input_table(base: str, corpus: Path, limit: int) -> list[dict[str, Any]]:
    import httpx

    from tests.test_web_writes import bad_inputs

    rows = []
    with httpx.Client(base_url=base, timeout=600) as client:
        for bad in bad_inputs(limit):
            before = state(base, corpus)
            try:
                r = bad.send(client, TOKEN)
                status, body = r.status_code, r.json()
                message = body.get("error", "")
                shape = set(body) == {"ok", "error", "status"} and body["status"] == status
            except httpx.HTTPError as exc:  # e.g. the connection closed mid-upload
                status, message, shape = 0, f"{type(exc).__name__}: {exc}", False
            after = state(base, corpus)
            still = client.get("/api/search", params={"q": "upstream marketing"}).json()["hits"]
            rows.append({
                "kind": bad.kind, "expected": bad.status, "status": status, "message": message,
                "error_shape": shape, "nothing_changed": before == after,
                "still_searchable": bool(still),
            })
            print(f"  {bad.kind}: {status} {message[:70]}", file=sys.stderr)
    return rows


def markdown(result: dict[str, Any]) -> str:
    lines = ["## Upload to searchable (5-page article, real model, over HTTP)", "",
             "| run | words | chunks | sentences embedded | POST (s) | server: index (s) | "
             "server: families (s) | first search with the article (s) | next search (s) | "
             "upload → searchable (s) |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in result["runs"]:
        lines.append(f"| {r['run']} | {r['words']} | {r['chunks']} | "
                     f"{r['sentences_embedded']} | {r['post_s']} | {r['index_s']} | "
                     f"{r['families_s']} | {r['first_search_s']} | {r['next_search_s']} | "
                     f"**{r['upload_to_searchable_s']}** |")
    seeds = result["seeds"]
    lines += ["", "## Translation families on the seeds (`kb ingest`)", ""]
    lines += [f"- family: {f['a']} ~ {f['b']} (alignment {f['score']:.2f})"
              for f in seeds["families"]] or ["- no families"]
    lines += ["", "| article A | article B | alignment score |", "| --- | --- | ---: |"]
    lines += [f"| {a['a']} | {a['b']} | {a['score']:.2f} |" for a in seeds["alignments"]]
    lines += ["", "## Bad inputs", "",
              "| bad input | HTTP status | message | nothing lost |", "| --- | ---: | --- | --- |"]
    for r in result["bad_inputs"]:
        ok = r["nothing_changed"] and r["still_searchable"] and r["error_shape"]
        check = ("yes: version, articles and corpus files identical; search answers"
                 if ok else "NO")
        message = r["message"].replace("|", "\\|")
        lines.append(f"| {r['kind']} | {r['status']} | {message} | {check} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--words", type=int, default=WORDS, help="words per uploaded article")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = ap.parse_args()

    from kb.settings import Settings
    from web.devserver import running_server

    limit = Settings().max_upload_bytes
    arts = articles(args.shared, args.runs, args.words)
    with tempfile.TemporaryDirectory(prefix="kb-upload-") as tmp:
        index, corpus = Path(tmp) / "index", Path(tmp) / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)
        print("ingesting the seeds with the real model...", file=sys.stderr)
        seeds = ingest_seeds(index, corpus)
        env = {"KB_CORPUS_DIR": str(corpus), "KB_ADMIN_TOKEN": TOKEN}
        with running_server(index, env=env, log_path=Path(tmp) / "server.log") as base:
            runs = []
            for i, art in enumerate(arts):
                runs.append(measure(base, art, i))
                print(f"  run {i + 1}: {runs[-1]['upload_to_searchable_s']} s", file=sys.stderr)
            bad = bad_input_table(base, corpus, limit)
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1min_at_end": os.getloadavg()[0]},
        "seeds": seeds, "runs": runs, "bad_inputs": bad,
    }
    out = ROOT / "benchmarks" / "out" / "upload_latency.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(markdown(result))


if __name__ == "__main__":
    main()
