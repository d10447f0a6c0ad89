"""How well kb.accents gives unaccented Vietnamese its diacritics back.

XQuAD's 1,190 Vietnamese questions are stripped of their diacritics (kb.accents.fold)
and restored against the document frequencies of the 240 XQuAD Vietnamese paragraphs,
analyzed as kb indexes them (syllables and syllable bigrams). Reported: the share of
syllables and of whole questions restored exactly as XQuAD writes them, and the same
for the seed questions in Vietnamese against the seed articles. Then the questions as
written (how many restoration wrongly changes) and with one or two accented syllables
typed bare (the share restored exactly).

With ``--retrieval`` it also indexes those 240 paragraphs with the default encoder and
reports R@1 / R@10 of the answering paragraph for each question as XQuAD writes it,
unaccented and restored (what kb does), and unaccented as typed (restoration off).

    .venv/bin/python benchmarks/accents.py [--shared ../shared] [--retrieval]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
import unicodedata
from collections import Counter
from pathlib import Path

from kb import accents, lexical

ROOT = Path(__file__).resolve().parent.parent
_WORD = re.compile(r"[^\W_]+")


def _df(texts: list[str]) -> Counter[str]:
    df: Counter[str] = Counter()
    for text in texts:
        df.update(set(lexical.analyze(text, "vi")))
    return df


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(unicodedata.normalize("NFC", text))]


def measure(name: str, questions: list[str], paragraphs: list[str]) -> dict[str, object]:
    df = _df(paragraphs)
    lex = accents.lexicon([])
    ok_words = total_words = ok_questions = 0
    started = time.perf_counter()
    misses = []
    for q in questions:
        typed = accents.fold(q)
        restored = accents.restore(typed, lambda terms: [df.get(t, 0) for t in terms], lex)
        got, want = _words(restored or typed), _words(q)
        same = sum(a == b for a, b in zip(got, want, strict=True))
        ok_words += same
        total_words += len(want)
        ok_questions += same == len(want)
        if same < len(want) and len(misses) < 5:
            misses.append((q, restored or typed))
    ms = (time.perf_counter() - started) * 1000 / max(len(questions), 1)
    return {"suite": name, "questions": len(questions),
            "syllables_exact": round(ok_words / total_words, 4),
            "questions_exact": round(ok_questions / len(questions), 4),
            "ms_per_question": round(ms, 3), "misses": misses,
            **partly(questions, df, lex)}


def partly(questions: list[str], df: Counter[str], lex: dict[str, int]) -> dict[str, object]:
    """Questions typed with some diacritics: as written (nothing should change), and
    with one or two of their accented syllables typed bare (each should come back)."""
    def counts(terms: list[str]) -> list[int]:
        return [df.get(t, 0) for t in terms]

    changed, ok, tried, wrong = 0, 0, 0, []
    for q in questions:
        got = accents.restore(q, counts, lex)
        if got is not None and _words(got) != _words(q):
            changed += 1
            wrong.append((q, got))
        typed = _partly(q)
        if typed == q:
            continue
        tried += 1
        ok += _words(accents.restore(typed, counts, lex) or typed) == _words(q)
    return {"as_written_changed": changed, "as_written_changes": wrong[:5],
            "partly_typed": tried, "partly_typed_exact": round(ok / max(tried, 1), 4)}


def _as_written(question: str) -> str:
    return question


def _partly(question: str) -> str:
    """``question`` with one or two of its accented syllables typed bare (the same ones
    every time it is asked)."""
    rng = random.Random(question)
    marked = [m for m in _WORD.finditer(question) if accents.has_marks(m.group())]
    if len(marked) < 2:
        return question
    for m in sorted(rng.sample(marked, min(len(marked) - 1, rng.choice([1, 2]))),
                    key=lambda m: -m.start()):
        question = question[:m.start()] + accents.fold(m.group()) + question[m.end():]
    return question


def retrieval(paras: list[dict]) -> dict[str, dict[str, float]]:
    import tempfile

    from kb.articles import parse_article
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        kb = KnowledgeBase.open(d, settings=Settings(index_dir=d, corpus_dir=d / "corpus"))
        started = time.perf_counter()
        kb.ingest([parse_article(p["context"], name=f"p{i:03d}", lang="vi", title=f"p{i}")
                   for i, p in enumerate(paras)])
        print(f"indexed {len(paras)} paragraphs in {time.perf_counter() - started:.0f}s")
        restore = kb._restore_accents
        out: dict[str, dict[str, float]] = {}
        for name, typing, restoring in [("accented", _as_written, True),
                                         ("unaccented, restored", accents.fold, True),
                                         ("unaccented, as typed", accents.fold, False),
                                         ("partly accented, restored", _partly, True),
                                         ("partly accented, as typed", _partly, False)]:
            kb._restore_accents = restore if restoring else (lambda *a: None)  # type: ignore
            r1 = r10 = n = 0
            for i, p in enumerate(paras):
                for qa in p["qas"]:
                    q = typing(qa["question"])
                    ids = [h.article_id for h in kb.search(q, k=10, query_lang="vi").hits]
                    r1 += ids[:1] == [f"p{i:03d}"]
                    r10 += f"p{i:03d}" in ids
                    n += 1
            out[name] = {"R@1": round(r1 / n, 4), "R@10": round(r10 / n, 4)}
            print(name, out[name])
        kb.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--retrieval", action="store_true", help="also measure search (model)")
    args = ap.parse_args()
    data = json.loads((args.shared / "bench" / "xquad" / "xquad.vi.json").read_text())
    paras = [p for a in data["data"] for p in a["paragraphs"]]
    xq = [q["question"] for p in paras for q in p["qas"]]
    seeds = [json.loads(line) for line in
             (args.shared / "eval" / "seed_questions.jsonl").read_text().splitlines() if line]
    vi_seed_q = [s["q"] for s in seeds if s["lang"] == "vi"]
    vi_articles = [p.read_text(encoding="utf-8") for p in (ROOT / "corpus").glob("vi-*.txt")]
    for result in (measure("xquad-vi", xq, [p["context"] for p in paras]),
                   measure("seeds-vi", vi_seed_q, vi_articles)):
        print(json.dumps(result, ensure_ascii=False))
    if args.retrieval:
        retrieval(paras)


if __name__ == "__main__":
    main()
