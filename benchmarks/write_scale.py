"""The write path at scale: adding and removing one article in a large knowledge base.

Usage: .venv/bin/python benchmarks/write_scale.py [--sizes 100000 1000000] [--sentences 3]

For each size, a knowledge base is filled with that many synthetic English chunks in
one language (the worst case: every write touches the big language), through the
app's store (``kb.store``) and one full publish of the derived indexes. Vectors are
synthesised from real e5 vectors as ``benchmarks/app_scale.py`` does, ``--sentences``
sentence vectors per chunk; chunk terms are 60 terms drawn from the analysed English
XQuAD paragraphs' term frequencies. Then, through ``KnowledgeBase``:

- ``ingest``: one real article (the English seed, 13 chunks, encoded by the default
  encoder) is added; timed from the call to the published, searchable index;
- the article is found by a search for its topic, the first answer after the write
  is timed (``kb.ask``; its caches refresh on every write), then the article is
  removed (``remove``, timed) and is no longer found;
- ``upload``: the German seed added as an upload is (``kb.adding.add``: the
  near-duplicate check against every stored article, the ingest, the translation
  family detection against every article in another language), then removed
  (``kb.adding.remove``);
- ``search``: p50 of 20 warm searches after the writes;
- ``publish all``: one full publish of the filled store, its time and the peaks of
  its private memory (RssAnon) and of its resident memory (VmRSS, which also counts
  the pages of the files it maps);
- ``reader``: a new process opens the knowledge base, as a server would, and searches
  20 times; its time to the first result, and its memory from /proc/self/status:
  private (RssAnon) and file pages mapped (RssFile, the operating system's cache,
  shared with every other process that has the index open).

Prints Markdown; writes benchmarks/out/write_scale.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from app_scale import TERMS, english  # noqa: E402
from vector_scale import median_nn_distance, neighbour_table, real_vectors, synthesise  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
ARTICLE = ROOT / "corpus" / "en-upstream-vs-downstream-marketing.txt"
# Uploaded in another language than the synthetic chunks, so that translation family
# detection compares it with every stored article.
UPLOAD = ROOT / "corpus" / "de-upstream-downstream-marketingleiter.txt"
PER_ARTICLE = 100


def fill(kb, n: int, sentences: int, real: str, rng: np.random.Generator) -> float:  # type: ignore[no-untyped-def]
    """Write ``n`` synthetic chunks straight into the store; seconds taken."""
    from kb.articles import Article
    from kb.store import NewChunk

    seeds, _ = real_vectors(real)
    sims, nn = neighbour_table(seeds, 10)
    noise = median_nn_distance(sims)
    _, vocab, p = english()
    started = time.perf_counter()
    with kb._lock(), kb.store.transaction() as conn:
        kb._write_meta(conn, kb.encoder)
        for a in range(n // PER_ARTICLE):
            vecs = synthesise(seeds, nn, PER_ARTICLE, noise, rng)
            svecs = synthesise(seeds, nn, PER_ARTICLE * sentences, noise, rng)
            draws = rng.choice(len(vocab), size=(PER_ARTICLE, TERMS), p=p)
            chunks, text = [], ""
            for i, row in enumerate(draws.tolist()):
                words = [vocab[j] for j in row]
                body = " ".join(words) + "."
                start, end = len(text), len(text) + len(body)
                chunks.append(NewChunk("en", "", start, end, body, TERMS, words, vecs[i],
                                       [(start, end, svecs[i * sentences + k])
                                        for k in range(sentences)]))
                text += body + " "
            kb.store.put_article(
                conn, Article(id=f"synthetic-{a:06d}", title=f"synthetic {a}", lang="en",
                              text=text.strip()), chunks)
    return time.perf_counter() - started


READER = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from kb.core import KnowledgeBase
from kb.settings import Settings
from pathlib import Path
index, corpus = Path(sys.argv[1]), Path(sys.argv[3])
started = time.perf_counter()
kb = KnowledgeBase.open(index, settings=Settings(index_dir=index, corpus_dir=corpus))
kb.search("What does upstream marketing decide?")
first = time.perf_counter() - started
for i in range(20):
    kb.search(f"How is downstream marketing measured? ({i})")
mb = {k: int(v.split()[0]) // 1024 for k, v in
      (line.split(":", 1) for line in open("/proc/self/status")) if k.startswith(("Rss", "VmHWM"))}
print(json.dumps({"open_to_first_result_s": round(first, 2), "rss_anon_mb": mb["RssAnon"],
                  "rss_file_mb": mb["RssFile"], "peak_rss_mb": mb["VmHWM"]}))
"""


class PeakPrivate:
    """The peaks of this process's private memory (RssAnon) and of its resident memory
    (VmRSS), sampled every 5 ms while the block runs. VmRSS, like ``ru_maxrss``, also
    counts the pages of mapped index files, which are the operating system's cache:
    shared, and dropped under memory pressure."""

    def __enter__(self) -> PeakPrivate:
        import threading

        self.peak_mb, self.peak_rss_mb, self._stop = 0, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while True:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        self.peak_mb = max(self.peak_mb, int(line.split()[1]) // 1024)
                    elif line.startswith("VmRSS:"):
                        self.peak_rss_mb = max(self.peak_rss_mb, int(line.split()[1]) // 1024)
            if self._stop.wait(0.005):
                return

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def reader(index: Path, corpus: Path) -> dict:
    """What a new process that opens the index and searches costs (see the docstring)."""
    out = subprocess.run([sys.executable, "-c", READER, str(index), str(ROOT), str(corpus)],
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"the reader process failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(n: int, sentences: int, real: str) -> dict:
    from kb import adding
    from kb.articles import read_article
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        kb = KnowledgeBase.open(Path(tmp) / "index", settings=Settings(
            index_dir=Path(tmp) / "index", corpus_dir=corpus))
        fill_s = fill(kb, n, sentences, real, rng)
        fill_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        t = time.perf_counter()
        with kb._lock(), PeakPrivate() as private:
            kb._publish({"en"}, full=True)
        publish_s = time.perf_counter() - t
        article = dataclasses.replace(read_article(ARTICLE), id="new-article")
        question = "What is the difference between upstream and downstream marketing?"
        kb.search(question)  # warm: encoder, language detection
        t = time.perf_counter()
        report = kb.ingest([article])
        ingest_s = time.perf_counter() - t
        found = any(h.article_id == "new-article" for h in kb.search(question, k=5).hits)
        t = time.perf_counter()
        answered = kb.ask(question).found  # the first answer after the write
        ask_s = time.perf_counter() - t
        t = time.perf_counter()
        kb.remove("new-article")
        remove_s = time.perf_counter() - t
        gone = all(h.article_id != "new-article" for h in kb.search(question, k=50).hits)
        t = time.perf_counter()
        added = adding.add(kb, dataclasses.replace(read_article(UPLOAD), id="uploaded"))
        upload_s = time.perf_counter() - t
        t = time.perf_counter()
        adding.remove(kb, "uploaded")
        upload_remove_s = time.perf_counter() - t
        times = []
        for i in range(20):
            kb._query_cache.clear()
            t = time.perf_counter()
            kb.search(f"{question} ({i})")
            times.append((time.perf_counter() - t) * 1000)
        kb.close()
        opened = reader(Path(tmp) / "index", corpus)
    return {
        "chunks": n, "sentences_per_chunk": sentences, "fill_s": round(fill_s, 1),
        "publish_all_s": round(publish_s, 1), "ingest_s": round(ingest_s, 2),
        "ingest_chunks": report.chunks_embedded, "found_after_ingest": found,
        "ask_after_ingest_s": round(ask_s, 2), "answered_after_ingest": answered,
        "remove_s": round(remove_s, 2), "gone_after_remove": gone,
        "upload_s": round(upload_s, 2), "upload_stats": added.stats,
        "upload_remove_s": round(upload_remove_s, 2),
        "search_p50_ms": round(statistics.median(times), 1),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "peak_rss_after_fill_mb": fill_peak,
        "publish_all_peak_private_mb": private.peak_mb,
        "publish_all_peak_rss_mb": private.peak_rss_mb,
        "reader": opened,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--sentences", type=int, default=3)
    ap.add_argument("--real", default=str(OUT / "ix-bench" / "kb.sqlite"),
                    help="a kb.sqlite (or glob of them) with real e5 vectors")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.sizes:
        rows.append(run(n, args.sentences, args.real))
        print(json.dumps(rows[-1]), flush=True)
    (OUT / "write_scale.json").write_text(json.dumps(rows, indent=1))
    print("| chunks | fill s | publish all s | ingest one article s | first ask after it s "
          "| remove it s | found / gone | upload s (index + families) | remove upload s "
          "| search p50 ms | peak RSS MB (after the fill) | publish all: peak private / RSS MB "
          "| reader: first result s | reader RSS MB, private / file pages |")
    print("|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        st = r["upload_stats"]
        print(f"| {r['chunks']:,} | {r['fill_s']} | {r['publish_all_s']} | {r['ingest_s']} "
              f"({r['ingest_chunks']} chunks) | {r['ask_after_ingest_s']} | {r['remove_s']} | "
              f"{r['found_after_ingest']} / {r['gone_after_remove']} | {r['upload_s']} "
              f"({st['index_s']} + {st['families_s']}) | {r['upload_remove_s']} "
              f"| {r['search_p50_ms']} | {r['peak_rss_mb']:,} ({r['peak_rss_after_fill_mb']:,}) "
              f"| {r['publish_all_peak_private_mb']:,} / {r['publish_all_peak_rss_mb']:,} "
              f"| {r['reader']['open_to_first_result_s']} "
              f"| {r['reader']['rss_anon_mb']:,} / {r['reader']['rss_file_mb']:,} |")


if __name__ == "__main__":
    main()
