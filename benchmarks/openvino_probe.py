"""OpenVINO as an encoder runtime: a measured probe, not a kb backend.

Usage: .venv/bin/pip install openvino nncf   (not kb dependencies)
       .venv/bin/python benchmarks/openvino_probe.py [--per-lang 50] [--rounds 2]

Takes the ``onnx`` fp32 export that kb already builds, and makes two OpenVINO models
of it: the graph as it is (run in bf16, OpenVINO's default on this AVX-512 BF16 CPU),
and an int8 one from NNCF's static post-training quantization. The int8 one keeps in
fp32 the same FFN output projections that kb's ``onnx-int8`` export keeps (the
outlier layers), and is calibrated on the seed corpus's chunks and seed questions,
never on the benchmark texts timed here. Then, interleaved in one process, with
kb's own tokenisation, batching and pooling (``kb.encoder.OnnxRunner``):
sentences (tokens/s), paragraphs (per second), one question at a time (p50 ms), cosine
to ``onnx`` fp32, and how many of fp32's top 10 paragraphs each question keeps.
Writes benchmarks/out/openvino_probe.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from encoders import build_texts, top10_agreement  # noqa: E402

from kb.embedded_model import ensure_embedded_model  # noqa: E402
from kb.encoder import OnnxRunner, load_encoder  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "openvino_probe.json"
# Pinned threads were the fastest setting tried for both batches and single questions.
CONFIG = {"INFERENCE_NUM_THREADS": "2", "PERFORMANCE_HINT": "LATENCY", "ENABLE_CPU_PINNING": "YES"}


class OpenVinoSession:
    """Stands in for onnxruntime's session inside ``OnnxRunner``."""

    def __init__(self, model: object) -> None:
        import openvino as ov

        self._compiled = ov.Core().compile_model(model, "CPU", CONFIG)
        self._request = self._compiled.create_infer_request()

    def run(self, _outputs: object, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return [self._request.infer(feeds)[self._compiled.output(0)]]


def export_dir(variant: str) -> Path:
    """The ONNX export kb builds for a backend (built now if missing)."""
    return load_encoder(backend=variant).export_dir  # type: ignore[attr-defined,no-any-return]


def runner(export: Path) -> OnnxRunner:
    info = json.loads((export / "kb_export.json").read_text(encoding="utf-8"))
    return OnnxRunner(export / "model.onnx", export / "tokenizer.json", info)


def quantized(fp32: Path, keep_fp32: list[str], calibration: list[str]) -> object:
    import nncf
    import openvino as ov

    model = ov.Core().read_model(str(fp32 / "model.onnx"))
    ids = runner(fp32).token_ids(calibration)
    items = [{"input_ids": np.array([i], dtype=np.int64),
              "attention_mask": np.ones((1, len(i)), dtype=np.int64)} for i in ids]
    return nncf.quantize(
        model, nncf.Dataset(items), model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(items), preset=nncf.QuantizationPreset.MIXED,
        ignored_scope=nncf.IgnoredScope(names=keep_fp32, validate=False),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-lang", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    import openvino as ov

    ensure_embedded_model()
    fp32, int8 = export_dir("onnx"), export_dir("onnx-int8")
    keep = json.loads((int8 / "kb_export.json").read_text())["quantization"]["kept_fp32"]
    texts = build_texts(args.per_lang)
    calibration = ["passage: " + c for c in texts["chunks"]] + [
        "query: " + q for q in texts["questions"][len(texts["langs"]):]]  # seed questions
    sentences = ["passage: " + s for p in texts["paragraphs"]
                 for s in re.split(r"(?<=[.!?])\s+", p) if s.strip()]
    paragraphs = ["passage: " + p for p in texts["paragraphs"]]
    questions = ["query: " + q for q in texts["questions"][: len(texts["langs"])]]

    runners = {"onnxruntime int8 (kb default)": runner(int8)}
    for name, model in [("openvino int8 (NNCF static)", quantized(fp32, keep, calibration)),
                        ("openvino bf16", ov.Core().read_model(str(fp32 / "model.onnx")))]:
        r = runner(fp32)
        r._session = OpenVinoSession(model)  # type: ignore[assignment]
        runners[name] = r
    reference = runner(fp32)
    p_ref, q_ref = reference.embed(paragraphs), reference.embed(questions)
    n_tokens = sum(len(i) for i in reference.token_ids(sentences))
    for r in runners.values():  # OpenVINO compiles each new input shape once: warm them all
        r.embed(sentences)
        r.embed(paragraphs)
        for q in questions:
            r.embed([q])

    timings: dict[str, dict[str, list[float]]] = {n: {"s": [], "p": [], "q": []} for n in runners}
    for _ in range(args.rounds):
        for name, r in runners.items():
            t = time.perf_counter()
            r.embed(sentences)
            timings[name]["s"].append(n_tokens / (time.perf_counter() - t))
            t = time.perf_counter()
            r.embed(paragraphs)
            timings[name]["p"].append(len(paragraphs) / (time.perf_counter() - t))
            for q in questions:
                t = time.perf_counter()
                r.embed([q])
                timings[name]["q"].append((time.perf_counter() - t) * 1000)
    rows = []
    for name, r in runners.items():
        p, q = r.embed(paragraphs), r.embed(questions)
        cos = np.sum(p * p_ref, axis=1)
        rows.append({
            "runtime": name,
            "sentence_tokens_per_s": round(max(timings[name]["s"])),
            "paragraphs_per_s": round(max(timings[name]["p"]), 1),
            "question_p50_ms": round(float(np.median(timings[name]["q"])), 2),
            "cosine_paragraphs_mean": round(float(cos.mean()), 5),
            "cosine_paragraphs_min": round(float(cos.min()), 4),
            "cosine_questions_mean": round(float(np.mean(np.sum(q * q_ref, axis=1))), 5),
            "top10_agreement": round(top10_agreement(p_ref, q_ref, p, q), 3),
        })
    report = {"texts": {"sentences": len(sentences), "sentence_tokens": n_tokens,
                        "paragraphs": len(paragraphs), "questions": len(questions)},
              "openvino": ov.__version__, "config": CONFIG, "rows": rows}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print("| runtime | sentence tokens/s | paragraphs/s | question p50 ms | cosine to fp32 "
          "(paragraphs mean / min, questions) | fp32 top-10 kept |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['runtime']} | {row['sentence_tokens_per_s']} | {row['paragraphs_per_s']} "
              f"| {row['question_p50_ms']} | {row['cosine_paragraphs_mean']} / "
              f"{row['cosine_paragraphs_min']}, {row['cosine_questions_mean']} "
              f"| {row['top10_agreement']} |")
    print(json.dumps(report["texts"]))


if __name__ == "__main__":
    main()
