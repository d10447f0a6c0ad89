"""Package hygiene: public names and nothing heavy at import time."""

import subprocess
import sys
from pathlib import Path

from .conftest import CORPUS

ROOT = Path(__file__).resolve().parent.parent


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


def test_a_started_server_imports_no_more_of_its_code_on_requests(tmp_path):
    """QA: a server running while its code was updated imported the new version of a
    lazily imported module on a later request, beside the old rest, and answered 500s.
    Everything requests need is imported when the app starts."""
    code = f"""
import sys
from pathlib import Path
from fastapi.testclient import TestClient
from kb.core import KnowledgeBase
from kb.settings import Settings
from web.app import create_app

d = Path({str(tmp_path)!r})
settings = Settings(index_dir=d / "index", corpus_dir=d / "corpus", model="fake",
                    admin_token="t" * 24)
kb = KnowledgeBase.open(settings.index_dir, settings=settings)
kb.ingest_paths([Path({str(CORPUS)!r})])
with TestClient(create_app(settings, kb=kb)) as client:
    before = {{m for m in sys.modules if m.split(".")[0] in ("kb", "web")}}
    pages = ["/", "/?q=upselling", "/?q=Was+ist+Upstream-Marketing%3F", "/library",
             "/concepts", "/add", "/articles/en-upstream-vs-downstream-marketing",
             "/api/search?q=KPI", "/api/ask?q=KPI", "/articles/nope"]
    for page in pages:
        client.get(page)
    client.post("/add", data={{"text": "Quokka points reward loyal members.",
                              "token": "t" * 24, "action": "preview"}})
    after = {{m for m in sys.modules if m.split(".")[0] in ("kb", "web")}}
print(sorted(after - before))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout


def test_kb_imports_the_web_package_only_to_serve_it():
    """kb is the core and web sits on it: only ``kb serve`` starts the web app. The
    links that the CLI prints (``kb concepts show --json``) are built in kb.links."""
    import re

    for path in sorted((ROOT / "kb").glob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(r"\s*(from\s+web[\s.]|import\s+web\b)", line):
                # kb serve: the app, and the server log's format (web.logs, QA24a F6)
                assert path.name == "cli.py" and re.search(
                    r"web\.app|from web import logs$", line), f"{path.name}:{n}: {line}"
