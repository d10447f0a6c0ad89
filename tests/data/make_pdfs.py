"""How tests/data/*-wrapped.pdf were made: Chromium (through Playwright) prints a small
HTML page to PDF, then pypdf empties the embedded fonts' glyph outlines (the pages show
no text, but extraction reads the ToUnicode maps, glyph widths and positions, which
stay) and sets the metadata title. en-wrapped.pdf is 5 KB; ko-wrapped.pdf is 48 KB, most
of it the dictionaries of the Type 3 fonts Chromium made for the Korean glyphs.
Run from the repository root: python tests/data/make_pdfs.py"""

from __future__ import annotations

import io
from pathlib import Path

from playwright.sync_api import sync_playwright
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

HERE = Path(__file__).parent
PAGES = {
    # A heading, a paragraph in three lines, a list with a wrapped item, a heading.
    "en-wrapped.pdf": ("Microsoft Word - anchoring_draft_v3_FINAL.docx", " lang=en", """
<h1>Price Anchoring</h1>
<p>Price anchoring is a pricing tactic in which a seller first shows a high reference
price so that the price customers pay looks reasonable by comparison.</p>
<ul><li>Show the premium plan first.</li>
<li>Measure conversion and refund rates together and share the results with the team
every week.</li><li>Keep it honest</li></ul>
<h2>Using anchors responsibly</h2>
<p>An anchor must be a real offer that some customers buy.</p>"""),
    # Korean, with no lang attribute as in QA20 (with lang=ko Chromium picks a font
    # that pypdf reads well): Chromium cuts words between syllables at a wrap; plain mode
    # doubles every space and puts one before each full stop.
    "ko-wrapped.pdf": ("가격 앵커링", "", """
<h1>가격 앵커링 전략</h1>
<p style='width:200px'>가격 앵커링은 먼저 높은 가격을 보여 주어 실제 가격이 합리적으로
보이게 만드는 가격 전략입니다. 처음 본 숫자는 기준점이 됩니다.</p>"""),
}


def main() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        for name, (title, lang, body) in PAGES.items():
            page.set_content(f"<html{lang}><head><meta charset=utf-8></head>"
                             f"<body style='font-size:14px;width:340px'>{body}</body></html>")
            reader = PdfReader(io.BytesIO(page.pdf()))
            writer = PdfWriter(clone_from=reader)
            for pg in writer.pages:
                for font in pg["/Resources"]["/Font"].values():
                    font = font.get_object()
                    for f in [font, *(d.get_object() for d in font.get("/DescendantFonts", []))]:
                        for proc in f.get("/CharProcs", {}).values():  # Type 3 glyphs
                            proc.get_object().set_data(b"")
                        desc = f.get("/FontDescriptor")
                        if desc is not None:
                            for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                                desc.get_object().pop(NameObject(key), None)
            writer.add_metadata({"/Title": title})
            writer.compress_identical_objects(remove_unreferenced=True)
            with open(HERE / name, "wb") as fh:
                writer.write(fh)
        browser.close()


if __name__ == "__main__":
    main()
