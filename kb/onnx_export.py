"""Export a sentence-transformers model to ONNX (fp32, or int8) once, into the model cache.

The ``onnx`` and ``onnx-int8`` encoder backends run the exported graph with onnxruntime
and need neither torch nor transformers at run time. Exporting does need them, once:

1. torch's TorchScript exporter writes the transformer (token ids -> token embeddings);
2. onnxruntime's transformer optimizer fuses attention, LayerNorm and GELU (BERT-like
   models only; checked against the unfused graph, else skipped);
3. for int8, onnxruntime's dynamic quantization: int8 weights per output channel, uint8
   activations quantized per call, full 8-bit range (``reduce_range=False``: the
   AVX-512 VNNI / AVX-VNNI kernels do not saturate, unlike plain AVX2); the FFN output
   projections whose inputs have outlier activations stay fp32 (see :func:`_quantize`).

sentence-transformers' own ONNX backend (``backend="onnx"``) would be the obvious route,
but it goes through ``optimum-onnx``, whose current release pins transformers < 4.58 and
whose exporter fails to import with transformers 5 (``get_parameter_dtype`` is gone).
The graph produced here is the same ``last_hidden_state`` graph; pooling, prompts and
truncation are replayed from the model's sentence-transformers config (see
:class:`kb.encoder.OnnxEncoder`).

The export lands in ``<cache>/models/<name>.onnx`` or ``<name>.onnx-int8``: a sibling of
the model directory, never inside it (that would change a user model's fingerprint),
built in a temporary directory renamed into place under a file lock.
"""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kb.embedded_model import publish_dir
from kb.errors import ModelError

__all__ = ["EXPORT_FILE", "EXPORTER_VERSION", "MODEL_FILE", "TOKENIZER_FILE", "ensure_onnx_export",
           "recipe_tag"]

# Bump a variant's number when what it produces changes, so cached exports are rebuilt.
EXPORTER_VERSION = {"fp32": 2, "int8": 5}

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
EXPORT_FILE = "kb_export.json"  # completed last: a finished export records its source
_RAW_FILE = "raw.onnx"  # torch's export, before fusion
_PROBES_FILE = "probes.npy"  # torch's vectors for _PROBES: the reference for every check
_OPSET = 17
_POOLING = ("mean", "cls")
# Model types whose graphs onnxruntime's "bert" fusions understand.
_GELU = {"Gelu", "BiasGelu", "FastGelu", "QuickGelu"}
# An FFN output projection in an unfused graph (GELU decomposed into Erf and Mul).
_FFN_OUT = re.compile(r"/(output/dense|ffn/lin2|mlp/fc2)/MatMul$")
_FUSABLE = {"bert", "roberta", "xlm-roberta", "camembert", "distilbert", "electra", "mpnet"}
# Exported fp32 must reproduce torch; int8 is only checked for being sane here (its
# faithfulness is measured by benchmarks/encoders.py and pinned by the tests).
_MIN_COSINE = {"fp32": 0.9999, "int8": 0.95}
# An FFN output projection whose input's largest |activation| exceeds this many times its
# 99.9th percentile stays fp32 (see _quantize); if the probes still lose more cosine than
# _INT8_FLOOR allows, the export falls back to keeping every FFN output projection fp32.
_OUTLIER_RATIO = 12.0
_INT8_FLOOR = 0.995
# (every FFN output projection fp32, 7-bit weights), tried in turn (see _finish_step).
_INT8_RECIPES = ((False, True), (True, True))
_PROBES = [
    "query: How do I measure the return on a marketing campaign?",
    "passage: Upstream marketing focuses on the early stages of the marketing process: "
    "research, product development and positioning, long before any campaign starts.",
    "passage: 업스트림 마케팅은 제품 개발 단계에서 고객의 요구를 파악하는 데 집중합니다.",
    "query: Wie verbessert man die Öffnungsrate von E-Mail-Kampagnen?",
    "passage: Phở là món ăn nổi tiếng nhất của Việt Nam.",
    "x",
]

Log = Callable[[str], None]


def ensure_onnx_export(
    model_dir: Path,
    *,
    models_dir: Path,
    name: str,
    source_fingerprint: str,
    int8: bool,
    log: Log | None = None,
) -> Path:
    """Return the ONNX export of ``model_dir``, exporting it first if needed.

    Args:
        model_dir: a local sentence-transformers model directory.
        models_dir: where exports live (``<cache>/models``).
        name: directory stem of the export; ``.onnx`` or ``.onnx-int8`` is appended.
        source_fingerprint: the model's fingerprint; a changed model is re-exported.
        int8: dynamic int8 quantization instead of fp32.
        log: optional callback for one-line progress messages.

    The work runs in two child processes (torch export; fusion and quantization), so
    the caller never imports torch and its heap does not keep the export's peak (about
    2.5 GB, then about 4 GB, for e5-small). About a minute on two busy cores.

    Raises:
        ModelError: the model's module chain cannot be run from ONNX, or the export does
            not reproduce the torch model.
    """
    from filelock import FileLock

    variant = "int8" if int8 else "fp32"
    dirname = f"{name}.onnx-int8" if int8 else f"{name}.onnx"
    target = models_dir / dirname
    if _is_current(target, source_fingerprint, variant):
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(models_dir / f".{dirname}.lock")):
        if _is_current(target, source_fingerprint, variant):  # built while we waited
            return target
        for stale in models_dir.glob(f".{dirname}.*.tmp"):  # left by a killed export
            shutil.rmtree(stale, ignore_errors=True)
        if log:
            log(f"Exporting {model_dir.name} to ONNX ({variant}) into {models_dir} (once)")
        tmp = Path(tempfile.mkdtemp(prefix=f".{dirname}.", suffix=".tmp", dir=models_dir))
        try:
            tmp.chmod(0o755)  # mkdtemp's 0700 would hide a shared cache from other users
            fp32 = models_dir / f"{name}.onnx"
            if int8 and _is_current(fp32, source_fingerprint, "fp32"):
                # Quantize the finished fp32 export rather than export again.
                for f in (TOKENIZER_FILE, EXPORT_FILE, _PROBES_FILE):
                    shutil.copyfile(fp32 / f, tmp / f)
                graph = fp32 / MODEL_FILE
            else:
                _child("torch", str(model_dir), str(tmp))
                graph = tmp / _RAW_FILE
            _child("finish", str(tmp), str(graph), variant, source_fingerprint)
            publish_dir(tmp, target)  # swaps out an older exporter's output
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    if log:
        log("ONNX export ready")
    return target


def recipe_tag(info: dict[str, Any]) -> str:
    """What an int8 export (its kb_export.json, ``info``) did beyond the usual recipe, for
    the vectors' fingerprint: "-ffn32" when every FFN output projection stayed fp32,
    "-r7" for 7-bit weights. Vectors of different recipes agree only to cosine ~.997, so
    an index built with one is not searched with another (an index of stop 32's 8-bit
    export is rebuilt)."""
    q = info.get("quantization") or {}
    outliers = sorted(n for n, r in (q.get("ffn_out_outlier_ratios") or {}).items()
                      if r > _OUTLIER_RATIO)
    tag = "-ffn32" if q and sorted(q.get("kept_fp32") or []) != outliers else ""
    return tag + ("-r7" if q.get("reduce_range") else "")


def _is_current(target: Path, source_fingerprint: str, variant: str) -> bool:
    try:
        info = json.loads((target / EXPORT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        info.get("exporter_version") == EXPORTER_VERSION[variant]
        and info.get("source_fingerprint") == source_fingerprint
        and info.get("variant") == variant
    )


def _child(*args: str) -> None:
    """Run one export step in a fresh interpreter; its error becomes a ModelError."""
    proc = subprocess.run(
        [sys.executable, "-m", "kb.onnx_export", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        last = lines[-1] if lines else f"exit status {proc.returncode}"
        raise ModelError(f"ONNX export failed ({args[0]} step): {last.removeprefix('error: ')}")


# ------------------------------------------------------------- step 1: torch export


def _torch_step(model_dir: Path, out: Path) -> None:
    """Write raw.onnx, tokenizer.json, probes.npy and a partial kb_export.json into ``out``."""
    import torch
    from sentence_transformers import SentenceTransformer

    from kb.encoder import _quiet_transformers

    with _quiet_transformers():
        st = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    info = _describe(st, model_dir)
    reference = st.encode(_PROBES, normalize_embeddings=True, convert_to_numpy=True)
    np.save(out / _PROBES_FILE, reference.astype(np.float32))

    tokenizer = _plain_tokenizer(st.tokenizer)
    tokenizer.save(str(out / TOKENIZER_FILE))
    hf = st[0].auto_model.eval()
    set_attn = getattr(hf, "set_attn_implementation", None)
    if set_attn is not None:  # the eager graph is the one onnxruntime's fusions know
        try:
            set_attn("eager")
        except Exception:  # an architecture without eager attention: keep its default
            pass
    config = hf.config
    info["model_type"] = str(getattr(config, "model_type", ""))
    info["num_heads"] = int(getattr(config, "num_attention_heads", 0) or 0)
    info["hidden_size"] = int(getattr(config, "hidden_size", 0) or 0)
    names = info["input_names"]

    class _Graph(torch.nn.Module):
        """Positional inputs in ``names`` order -> last_hidden_state."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, inputs, strict=True))).last_hidden_state

    enc = tokenizer.encode_batch(["a b c d", "a"])
    width = max(len(e.ids) for e in enc)
    ids = torch.full((2, width), info["pad_id"], dtype=torch.int64)
    mask = torch.zeros((2, width), dtype=torch.int64)
    for row, e in enumerate(enc):
        ids[row, : len(e.ids)] = torch.tensor(e.ids)
        mask[row, : len(e.ids)] = 1
    sample = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one TracerWarning per traced Python branch
        torch.onnx.export(
            _Graph(hf),
            tuple(sample[n] for n in names),
            str(out / _RAW_FILE),
            input_names=names,
            output_names=["token_embeddings"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "token_embeddings"]},
            opset_version=_OPSET,
            dynamo=False,  # the dynamo exporter needs onnxscript; this one needs nothing
            do_constant_folding=True,
        )
    _write_json(out / EXPORT_FILE, info)


# ------------------------------------------------------ step 2: fuse, quantize, check


def _finish_step(out: Path, graph: Path, variant: str, source_fingerprint: str) -> None:
    """Fuse ``graph`` (when raw), quantize it (int8), check it, and complete ``out``."""
    import onnxruntime

    info = json.loads((out / EXPORT_FILE).read_text(encoding="utf-8"))
    reference = np.load(out / _PROBES_FILE)
    tokenizer = out / TOKENIZER_FILE
    fp32 = graph
    if graph.name == _RAW_FILE:
        info["fused"] = False
        if info["model_type"] in _FUSABLE and info["num_heads"] and info["hidden_size"]:
            fused = out / "fused.onnx"
            if _fuse(graph, fused, info["num_heads"], info["hidden_size"]) and (
                _probe_cosine(fused, tokenizer, info, reference) >= _MIN_COSINE["fp32"]
            ):
                info["fused"] = True
                fp32 = fused
            elif fused.exists():
                fused.unlink()
    final = out / MODEL_FILE
    cosine = None  # the probes' cosine of ``final``, once it is known
    if variant == "int8":
        # 7-bit weights (``reduce_range``) on every CPU: without VNNI, onnxruntime's AVX2
        # kernel adds int8 products in pairs into 16 bits, which saturate with 8-bit
        # weights (an AMD EPYC Zen 3: probe cosine .9948 with 8-bit weights, .9979 with
        # 7), so the same export gave other vectors there than on a VNNI CPU, and the
        # tests' answers changed with the machine. With 7 bits no pair overflows, and
        # both kernels compute the same integers. If the probes still lose more than
        # _INT8_FLOOR, every FFN output projection stays fp32 as well.
        ratios: dict[str, float] | None = None
        for keep_all_ffn, reduce_range in _INT8_RECIPES:
            kept, ratios = _quantize(fp32, final, tokenizer, info, keep_all_ffn=keep_all_ffn,
                                     reduce_range=reduce_range, ratios=ratios)
            cosine = _probe_cosine(final, tokenizer, info, reference)
            if cosine >= _INT8_FLOOR:
                break
        info["quantization"] = {
            "method": "onnxruntime.quantization.quantize_dynamic",
            "weights": ("int8 (7-bit range), symmetric, per output channel" if reduce_range
                        else "int8, symmetric, per output channel"),
            "activations": "uint8, asymmetric, dynamic per tensor",
            "reduce_range": reduce_range,
            "kept_fp32": kept,
            "ffn_out_outlier_ratios": ratios,
        }
        for leftover in (out / _RAW_FILE, out / "fused.onnx"):
            leftover.unlink(missing_ok=True)
    else:
        os.replace(fp32, final)
        (out / _RAW_FILE).unlink(missing_ok=True)
    if cosine is None:
        cosine = _probe_cosine(final, tokenizer, info, reference)
    if cosine < _MIN_COSINE[variant]:
        raise ModelError(
            f"the {variant} ONNX export of {info['source_dir']} does not reproduce the torch "
            f"model (cosine {cosine:.4f} on a probe text); use KB_ENCODER_BACKEND=torch"
        )
    info.update(
        exporter_version=EXPORTER_VERSION[variant],
        source_fingerprint=source_fingerprint,
        variant=variant,
        onnxruntime=onnxruntime.__version__,
        probe_min_cosine=round(cosine, 6),
    )
    final.chmod(0o644)
    _write_json(out / EXPORT_FILE, info)  # last: marks the export finished


def _describe(st: Any, model_dir: Path) -> dict[str, Any]:
    """What the runtime needs to replay sentence-transformers around the graph."""
    kinds = [type(m).__name__ for m in st]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise ModelError(
            f"{model_dir}: modules {' -> '.join(kinds)} cannot run from ONNX here "
            "(Transformer -> Pooling [-> Normalize] only); use KB_ENCODER_BACKEND=torch"
        )
    cfg = st[1].get_config_dict()
    mode = cfg.get("pooling_mode")
    if mode is None:  # sentence-transformers 5: one boolean per mode
        on = [k for k, v in cfg.items() if k.startswith("pooling_mode_") and v]
        legacy = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}
        mode = legacy.get(on[0], on[0]) if len(on) == 1 else tuple(on)
    include_prompt = cfg.get("include_prompt", True)
    if mode not in _POOLING or not include_prompt:
        raise ModelError(
            f"{model_dir}: pooling {mode!r} (include_prompt={include_prompt}) is not "
            "supported by the ONNX backends; use KB_ENCODER_BACKEND=torch"
        )
    tok = st.tokenizer
    wanted = list(getattr(tok, "model_input_names", ["input_ids", "attention_mask"]))
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in wanted]
    right_padded = getattr(tok, "padding_side", "right") == "right"
    if names[:2] != ["input_ids", "attention_mask"] or not right_padded:
        raise ModelError(f"{model_dir}: this tokenizer is not supported by the ONNX backends")
    get_dim = getattr(st, "get_embedding_dimension", None)
    dim = get_dim() if get_dim else st.get_sentence_embedding_dimension()
    return {
        "source_dir": str(model_dir),
        "dim": int(dim),
        "max_seq_length": int(st.max_seq_length or 512),
        "do_lower_case": bool(getattr(st[0], "do_lower_case", False)),
        "pooling": mode,
        "prompts": dict(st.prompts or {}),
        "input_names": names,
        "pad_id": int(tok.pad_token_id if tok.pad_token_id is not None else 0),
    }


def _plain_tokenizer(hf_tokenizer: Any) -> Any:
    """The fast tokenizer's Rust backend with padding and truncation off (set at run time)."""
    from tokenizers import Tokenizer

    backend = getattr(hf_tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ModelError("the ONNX backends need a fast (Rust) tokenizer")
    tok = Tokenizer.from_str(backend.to_str())
    tok.no_padding()
    tok.no_truncation()
    return tok


def _fuse(raw: Path, out: Path, heads: int, hidden: int) -> bool:
    """onnxruntime's BERT fusions (Attention, LayerNorm, BiasGelu); False if none apply.

    Residual adds stay apart from their LayerNorm: onnxruntime 1.32's fused
    SkipLayerNormalization CPU kernel took 2.5 ms where Add + LayerNormalization took
    0.6 ms on a batch of 16 x 200 tokens, about a fifth of the whole encoder (measured
    here; the runner also keeps onnxruntime from fusing them back, see OnnxRunner).
    """
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.enable_skip_layer_norm = False
    try:
        fused = optimize_model(
            str(raw), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=0,
            optimization_options=options,
        )
    except Exception:  # an unfamiliar graph: run it unfused
        return False
    stats = fused.get_fused_operator_statistics()
    if not stats.get("Attention"):
        return False
    fused.save_model_to_file(str(out))
    return True


def _quantize(
    fp32: Path, out: Path, tokenizer: Path, info: dict[str, Any], *, keep_all_ffn: bool = False,
    reduce_range: bool = False, ratios: dict[str, float] | None = None,
) -> tuple[list[str], dict[str, float]]:
    """Dynamic int8 quantization of every MatMul but the FFN output projections whose
    input has outlier activations (all of them with ``keep_all_ffn``).

    An FFN output projection takes GELU's output, quantized per tensor at run time; a few
    huge values make that scale coarse for all the others. On e5-small, quantizing all
    twelve cost 3 points of dense R@10 on KorQuAD (mean cosine to fp32 .9961 against
    .9989 with all kept), but nearly all of that came from three layers. Quantized one at
    a time on 320 ko/en/de/vi texts, layer 4 alone took the mean to .9971, layers 0 and
    5 to .9986, the other nine left it at .9988-.9989; those three are the ones whose
    largest |activation| on the probes is 16-42 times their 99.9th percentile, against
    at most 9 for the rest. With those three fp32 and nine int8 the mean is .9986, and
    encoding runs 10-17% faster (docs/performance.md, "recipe 3"). Returns the kept
    nodes and every projection's ratio.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    producer = {name: node for node in graph.node for name in node.output}
    ffn = {}  # FFN output projection -> its input
    for node in graph.node:
        src = producer.get(node.input[0]) if node.op_type == "MatMul" else None
        if src is not None and (
            src.op_type in _GELU or (src.op_type == "Mul" and _FFN_OUT.search(node.name))
        ):
            ffn[node.name] = node.input[0]
    del graph, producer
    if ratios is None:  # measured once, whatever the recipes tried after
        ratios = {}
        if ffn and not keep_all_ffn:
            try:
                ratios = _outlier_ratios(fp32, ffn, tokenizer, info)
            except Exception:  # an unfamiliar graph: keep them all fp32, which always worked
                pass
    keep_all_ffn = keep_all_ffn or not ratios
    keep = [n for n in ffn if keep_all_ffn or ratios[n] > _OUTLIER_RATIO]
    quantize_dynamic(
        str(fp32),
        str(out),
        weight_type=QuantType.QInt8,
        per_channel=True,  # per-tensor weight scales cost ~0.01 of cosine on e5 (measured)
        reduce_range=reduce_range,
        nodes_to_exclude=keep,
        # The fused graph's com.microsoft ops defeat shape inference; their outputs are fp32.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    return keep, ratios


def _outlier_ratios(
    fp32: Path, inputs: dict[str, str], tokenizer: Path, info: dict[str, Any]
) -> dict[str, float]:
    """For each node, max |x| / 99.9th percentile of |x| of its input over the probes."""
    import onnx
    import onnxruntime as ort
    from tokenizers import Tokenizer

    # The same graph with those inputs as extra outputs. A model too big for one
    # protobuf keeps its weights in external files, which only a graph file beside it finds.
    model = onnx.load(str(fp32), load_external_data=False)
    wanted = sorted(set(inputs.values()))
    model.graph.output.extend(
        onnx.helper.make_tensor_value_info(x, onnx.TensorProto.FLOAT, None) for x in wanted
    )
    external = any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    providers = ["CPUExecutionProvider"]
    if not external:
        session = ort.InferenceSession(model.SerializeToString(), providers=providers)
    else:
        probe = fp32.with_name(f".outliers-{os.getpid()}.onnx")
        onnx.save(model, str(probe))
        try:
            session = ort.InferenceSession(str(probe), providers=providers)
        finally:
            probe.unlink()
    del model
    tok = Tokenizer.from_file(str(tokenizer))
    seen: dict[str, list[np.ndarray]] = {x: [] for x in wanted}
    for text in _PROBES:  # one at a time: no padding tokens among the activations
        ids = np.array([tok.encode(text.lower() if info.get("do_lower_case") else text).ids])
        feeds = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids),
        }
        for x, value in zip(
            wanted, session.run(wanted, {n: feeds[n] for n in info["input_names"]}), strict=True
        ):
            seen[x].append(np.abs(value).ravel())
    del session
    gc.collect()
    ratio = {}
    for x, parts in seen.items():
        a = np.concatenate(parts)
        ratio[x] = float(a.max() / max(float(np.percentile(a, 99.9)), 1e-12))
    return {node: round(ratio[x], 2) for node, x in inputs.items()}


def _probe_cosine(model: Path, tokenizer: Path, info: dict[str, Any], reference: Any) -> float:
    """Lowest cosine between ``model``'s probe vectors and torch's ``reference``."""
    from kb.encoder import OnnxRunner

    runner = OnnxRunner(model, tokenizer, info)
    vectors = runner.embed(_PROBES)
    del runner  # free the session (hundreds of MB) before the next step
    gc.collect()
    return float((vectors * reference).sum(axis=1).min())


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """``python -m kb.onnx_export torch MODEL_DIR OUT`` | ``finish OUT GRAPH VARIANT FP``."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["torch"] and len(args) == 3:
            _torch_step(Path(args[1]), Path(args[2]))
        elif args[:1] == ["finish"] and len(args) == 5:
            _finish_step(Path(args[1]), Path(args[2]), args[3], args[4])
        else:
            print(main.__doc__, file=sys.stderr)
            return 2
    except ModelError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
