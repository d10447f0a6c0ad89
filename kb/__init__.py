"""kb: a multilingual (ko/en/de/vi) marketing knowledge base.

Public names are imported lazily so that ``import kb`` loads no model, index or heavy
library (torch, faiss, sentence-transformers).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "ArticleError",
    "BadInputError",
    "Article",
    "Encoder",
    "FakeEncoder",
    "Hit",
    "IndexMismatchError",
    "KBError",
    "KnowledgeBase",
    "NotFoundError",
    "SearchResult",
    "Settings",
    "load_encoder",
]

_WHERE = {
    "ArticleError": "kb.errors",
    "BadInputError": "kb.errors",
    "IndexMismatchError": "kb.errors",
    "KBError": "kb.errors",
    "NotFoundError": "kb.errors",
    "Article": "kb.articles",
    "Encoder": "kb.encoder",
    "FakeEncoder": "kb.encoder",
    "load_encoder": "kb.encoder",
    "Hit": "kb.results",
    "SearchResult": "kb.results",
    "KnowledgeBase": "kb.core",
    "Settings": "kb.settings",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'kb' has no attribute {name!r}")
