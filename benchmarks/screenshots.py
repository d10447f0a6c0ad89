"""Screenshots for the README: the ask page with a cross-lingual answer, and an article.

Usage: .venv/bin/python benchmarks/screenshots.py [--index DIR]

Builds (or reuses) an index of corpus/ with the embedded model, serves it with
``kb serve``, and drives Debian's chromium (/usr/bin/chromium) with playwright. Writes
docs/screenshots/ask.png and docs/screenshots/article.png. Hangul needs a CJK font on
the machine (Debian: fonts-noto-cjk).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
QUESTION = "브랜드 메시지를 고객 세그먼트에 전달하는 방법"  # answered by the English article
# For the article shot: a citation near the top, so the title and metadata show too.
ARTICLE_QUESTION = "What is upstream marketing?"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", type=Path, help="index directory (default: a temporary one)")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from kb.core import KnowledgeBase
    from kb.settings import Settings
    from web.devserver import running_server

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kb-shots-") as tmp:
        index_dir = args.index or Path(tmp) / "index"
        kb = KnowledgeBase.open(index_dir, settings=Settings(index_dir=index_dir))
        kb.ingest_paths([ROOT / "corpus"])
        kb.close()
        with running_server(index_dir) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 1400},
                                    device_scale_factor=1)
            page.set_default_timeout(120_000)
            page.goto(f"{base}/?" + urlencode({"q": QUESTION}))
            page.wait_for_selector(".card")
            page.screenshot(path=str(OUT / "ask.png"), full_page=False)
            page.goto(f"{base}/?" + urlencode({"q": ARTICLE_QUESTION}))
            page.wait_for_selector(".card")
            href = page.locator(".card").filter(
                has=page.locator(".badge.lang-en")).first.locator("a.open").get_attribute("href")
            page.set_viewport_size({"width": 1200, "height": 1000})
            page.goto(f"{base}{href}")
            page.wait_for_selector("mark#hl")
            page.wait_for_timeout(300)  # let the scroll into view settle
            page.screenshot(path=str(OUT / "article.png"), full_page=False)
            browser.close()
    for name in ("ask.png", "article.png"):
        print(f"wrote {(OUT / name).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
