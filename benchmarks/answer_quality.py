"""Answer quality and the calibration of found/not-found, with the real model.

Usage: .venv/bin/python benchmarks/answer_quality.py [--index DIR] [--verbose]

- Gold citations: on ../shared/eval/seed_questions.jsonl, the share of questions where
  a cited passage (and, stricter, a cited sentence) contains a gold snippet
  (whitespace-collapsed, lowercased).
- Calibration: the evidence score (kb.answers.Evidence) of answerable questions (the
  seeds plus DEV_ON_TOPIC) and of the off-topic development questions (DEV_OFF_TOPIC)
  that the threshold was set between; then the held-out off-topic questions of
  tests/test_answers.py, which were not used to set it.
- Filtered: each seed question limited to one language that holds a gold snippet but
  is not the question's own (a Korean question asked of the German articles only),
  and every off-topic question limited to each other language in turn.
Prints Markdown and writes benchmarks/out/answer_quality.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "eval" / "seed_questions.jsonl"

DEV_ON_TOPIC = [
    "What are the benefits of upstream marketing?",
    "How do upstream and downstream marketing work together?",
    "Why is customer data important for cross-selling?", "What is bundling?",
    "Welche Vorteile hat Downstream-Marketing?", "Was macht ein Marketingleiter?",
    "Wie misst man den Erfolg von Cross-Selling?", "Was ist Upselling?",
    "크로스셀링에서 추천 시스템은 어떤 역할을 하나요?", "업셀링과 크로스셀링의 차이는 무엇인가요?",
    "업스트림 마케팅의 장점은?", "어떤 회사가 다운스트림 마케팅에 집중해야 하나요?",
    "Lợi ích của tiếp thị thượng nguồn là gì?", "Tiếp thị ngược dòng là gì?",
    "Chương trình khách hàng thân thiết là gì?", "Bán chéo là gì?",
]
DEV_OFF_TOPIC = [
    "How many legs does a spider have?", "What is photosynthesis?",
    "Who won the football world cup in 2014?", "How do I change a flat tire?",
    "What is the boiling point of water?", "Wie funktioniert ein Verbrennungsmotor?",
    "Was ist die Quadratwurzel von 144?", "Wann wurde die Berliner Mauer gebaut?",
    "Wie pflege ich Tomatenpflanzen?", "Welche Farbe hat ein Zebra?", "오늘 서울 날씨는 어때요?",
    "고양이에게 어떤 음식을 먹여야 하나요?", "피아노를 잘 치는 방법", "김치찌개 끓이는 법",
    "지구에서 달까지 거리는?", "Cách nấu phở bò ngon?", "Thủ đô của Nhật Bản là gì?",
    "Làm thế nào để học bơi?", "Tại sao bầu trời màu xanh?", "Mèo ăn gì?", "asdf qwerty zxcv",
]


def norm(text: str) -> str:
    return " ".join(text.split()).lower()


def gold_langs(item: dict) -> set[str]:
    """The languages of a seed's gold snippets."""
    from kb import language

    return {"ko" if any("가" <= ch <= "힣" for ch in g) else language.detect_query(g)
            for g in item["gold"]}


def filtered(kb, seeds: list[dict], off_topic: list[str]) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """Found rates with a language filter that leaves out the question's own language."""
    from kb import language

    on, on_found, on_gold, missed = 0, 0, 0, []
    for item in seeds:
        for lang in sorted(gold_langs(item) - {item["lang"]}):
            ans = kb.ask(item["q"], langs=[lang])
            on += 1
            on_found += ans.found
            on_gold += ans.found and any(norm(g) in norm(c.hit.text) for c in ans.citations
                                         for g in item["gold"])
            if not ans.found:
                missed.append(f"{item['id']}->{lang}")
    off, off_found, found_off = 0, 0, []
    for q in off_topic:
        own = language.detect_query(q)
        for lang in ("ko", "en", "de", "vi"):
            if lang != own:
                off += 1
                if kb.ask(q, langs=[lang]).found:
                    off_found += 1
                    found_off.append(f"{q} ->{lang}")
    return {
        "filtered on-topic": {"questions": on, "found": on_found, "gold_cited": on_gold,
                              "found_questions": [], "missed": missed, "evidence": []},
        "filtered off-topic": {"questions": off, "found": off_found,
                               "found_questions": found_off, "evidence": []},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", type=Path, help="index directory (default: a temporary one)")
    ap.add_argument("--verbose", action="store_true", help="print every answer")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from kb.core import KnowledgeBase
    from kb.settings import Settings
    from tests.test_answers import OFF_TOPIC

    seeds = [json.loads(line) for line in SEEDS.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="kb-answers-") as tmp:
        index_dir = args.index or Path(tmp) / "index"
        kb = KnowledgeBase.open(index_dir, settings=Settings.from_env(index_dir=index_dir))
        kb.ingest_paths([ROOT / "corpus"])
        rows = []
        for item in seeds:
            ans = kb.ask(item["q"])
            golds = [norm(g) for g in item["gold"]]
            rows.append({
                "id": item["id"], "q": item["q"], "found": ans.found,
                "evidence": ans.evidence.score if ans.evidence else None,
                "sentences": len(ans.sentences),
                "gold_in_passage": any(g in norm(c.hit.text) for c in ans.citations
                                       for g in golds),
                "gold_in_sentence": any(g in norm(s.text) or norm(s.text) in g
                                        for s in ans.sentences for g in golds),
                "cited_langs": sorted({c.hit.lang for c in ans.citations}),
            })
            if args.verbose:
                print(f"\n{item['id']} {item['q']} found={ans.found}")
                langs = {c.n: c.hit.lang for c in ans.citations}
                for s in ans.sentences:
                    n = s.citations[0]
                    print(f"   [{n}] ({langs[n]}) {s.text[:120]}")
        groups = {}
        for name, questions in (("dev on-topic", DEV_ON_TOPIC), ("dev off-topic", DEV_OFF_TOPIC),
                                ("held-out off-topic", OFF_TOPIC)):
            answers = [kb.ask(q) for q in questions]
            groups[name] = {
                "questions": len(questions),
                "found": sum(a.found for a in answers),
                "found_questions": [q for q, a in zip(questions, answers, strict=True) if a.found],
                "evidence": [round(a.evidence.score, 3) if a.evidence else None for a in answers],
            }
        groups.update(filtered(kb, seeds, OFF_TOPIC + DEV_OFF_TOPIC))
        threshold = kb.ask(seeds[0]["q"]).evidence.threshold  # type: ignore[union-attr]
        kb.close()

    n = len(rows)
    report = {
        "seed_questions": n,
        "gold_in_cited_passage": sum(r["gold_in_passage"] for r in rows),
        "gold_in_cited_sentence": sum(r["gold_in_sentence"] for r in rows),
        "seeds_found": sum(r["found"] for r in rows),
        "mean_sentences": round(statistics.mean(r["sentences"] for r in rows), 2),
        "threshold": threshold, "seeds": rows, "groups": groups,
    }
    out = ROOT / "benchmarks" / "out" / "answer_quality.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))

    print("\n| measure | result |\n| --- | --- |")
    print(f"| gold snippet in a cited passage | {report['gold_in_cited_passage']}/{n} |")
    print(f"| gold snippet in a cited sentence | {report['gold_in_cited_sentence']}/{n} |")
    print(f"| seed questions found | {report['seeds_found']}/{n} |")
    print(f"| sentences per answer (mean) | {report['mean_sentences']} |")
    for name, g in groups.items():
        print(f"| found, {name} | {g['found']}/{g['questions']} |")
        if "gold_cited" in g:
            cited = f"{g['gold_cited']}/{g['questions']}"
            print(f"| gold snippet in a cited passage, {name} | {cited} |")
    print(f"\nEvidence scores (found when >= {threshold}):")
    seed_ev = [r["evidence"] for r in rows if r["evidence"] is not None]
    print(f"- seeds: min {min(seed_ev):.2f}, median {statistics.median(seed_ev):.2f}")
    for name, g in groups.items():
        ev = [e for e in g["evidence"] if e is not None]
        if not ev:
            continue
        print(f"- {name}: min {min(ev):.2f}, median {statistics.median(ev):.2f}, "
              f"max {max(ev):.2f}" + (f"; found: {g['found_questions']}" if g["found"] else ""))
    missed = [r["id"] for r in rows if not r["gold_in_sentence"]]
    print(f"- seeds without a gold sentence: {missed}")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
