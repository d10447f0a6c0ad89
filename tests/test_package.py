"""Package hygiene: public names and nothing heavy at import time."""

import subprocess
import sys


def test_public_names_resolve():
    import kb

    for name in kb.__all__:
        assert getattr(kb, name) is not None


def test_import_loads_nothing_heavy():
    code = (
        "import sys, kb, kb.core, kb.cli, kb.search, kb.vectors, kb.lexical, kb.encoder;"
        "heavy = [m for m in ('torch', 'faiss', 'sentence_transformers', 'kiwipiepy', 'bm25s')"
        " if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
