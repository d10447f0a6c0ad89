"""Decoding uploads: UTF-8, the legacy encodings of ko/en/de/vi, and broken UTF-8."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.errors import ArticleError
from kb.extract import decode_any, extract

GERMAN = ("Über Preisstrategie\n\nDie Gründung der Börse für Unternehmen im Jahr 1817 "
          "veränderte die Märkte. Große Käufer und kleine Händler prüften die Preise.\n")
VIETNAMESE = ("Tiếp thị nội dung cho doanh nghiệp\n\nCác doanh nghiệp nhỏ cần hiểu rõ "
              "khách hàng của mình trước khi đầu tư vào quảng cáo trên mạng xã hội.\n")
KOREAN = "고객 관리 문서\n\n기존 고객에게 추가 제품을 추천하는 크로스셀링 전략을 정리합니다.\n"


@pytest.mark.parametrize(("text", "encoding"), [
    (GERMAN, "cp1252"), (KOREAN, "cp949"), (KOREAN, "euc-kr"), (GERMAN, "utf-16"),
])
def test_legacy_encodings_are_read(text, encoding):
    assert decode_any(text.encode(encoding), "a.txt") == text


@pytest.mark.parametrize("text", [GERMAN, VIETNAMESE, KOREAN])
@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(text, encoding):
    """QA10: without its BOM, UTF-16's NUL bytes made it "unsupported file type"."""
    assert extract(text.encode(encoding), "a.txt").text == text


def test_binary_with_nul_bytes_is_still_refused():
    with pytest.raises(ArticleError, match="unsupported file type"):
        extract(bytes(range(256)) * 8, "a.bin")


def test_vietnamese_in_windows_1258_gets_its_tones_back():
    """cp1258 writes tones as combining marks; read as cp1252 they became "Tiêìp"."""
    import unicodedata

    tones = "\u0300\u0301\u0303\u0309\u0323"

    def windows(ch: str) -> str:  # "ệ" -> "ê" + combining dot below, as Windows writes it
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        return base + "".join(c for c in parts if c in tones)

    data = "".join(windows(ch) for ch in VIETNAMESE).encode("cp1258", "strict")
    assert decode_any(data, "vi.txt") == VIETNAMESE


@pytest.mark.parametrize("text", [GERMAN, KOREAN, VIETNAMESE])
def test_utf8_with_a_broken_byte_is_refused_not_read_as_another_encoding(text):
    """One stray byte made the whole file cp949 or Mac-Roman: "Gründung" became
    "Gr체ndung", saved without a word."""
    data = text.encode("utf-8")
    at = len(data) // 2
    data = data[:at] + b"\x81" + data[at:]
    with pytest.raises(ArticleError, match=r"UTF-8 but for 1 broken byte .*line 3"):
        decode_any(data, "a.txt")


def test_an_aes_encrypted_pdf_is_a_clear_error():
    """It raised pypdf's DependencyError: a traceback in the CLI, a 500 on the web, and
    one such file in corpus/ stopped every ingest."""
    from pathlib import Path

    from kb.extract import extract

    data = (Path(__file__).parent / "data" / "aes-encrypted.pdf").read_bytes()
    with pytest.raises(ArticleError, match="encrypted"):
        extract(data, "report.pdf")


def test_an_impossible_header_value_is_a_clear_error(tmp_path):
    from kb.articles import read_article

    f = tmp_path / "dated.md"
    f.write_text("---\ntitle: Dated\ndate: 2024-02-30\n---\nPricing starts from value.\n")
    with pytest.raises(ArticleError, match="YAML cannot read.*quote it"):
        read_article(f)


def test_ids_fit_in_a_file_name_whatever_the_script():
    from kb.articles import MAX_ID_BYTES, article_id_from_name

    long_korean = article_id_from_name("고객" * 60 + ".md")
    assert len(long_korean.encode()) <= MAX_ID_BYTES and long_korean.startswith("고객고객")
    assert article_id_from_name("a" * 300 + ".md") == "a" * 120


def test_a_docx_that_expands_enormously_is_refused_before_parsing():
    """A 568 KB DOCX of 3 million empty paragraphs held 2 GB for 12 minutes."""
    import io
    import zipfile

    from kb.extract import extract

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document><w:body>" + "<w:p/>" * 1_500_000
                   + "</w:body></w:document>")
    with pytest.raises(ArticleError, match="expands to 9 MB"):
        extract(buf.getvalue(), "bomb.docx")


def test_a_header_with_old_mac_line_ends_is_a_header():
    from kb.articles import parse_article

    art = parse_article(b"---\rtitle: Lone CR header\rtags: [cr]\r---\rLoyalty apps reward "
                        b"repeat purchases with points.\r", name="cr.md")
    assert (art.title, art.tags) == ("Lone CR header", ("cr",))
    assert art.text.startswith("Loyalty apps")


def test_markdown_that_opens_with_html_is_markdown():
    from kb.extract import extract

    data = (b'<p align="center"><img src="logo.png"></p>\n\n# Loyalty apps\n\n'
            b"Loyalty apps reward repeat purchases with points that members redeem.\n")
    assert extract(data, "loyalty.md").text.startswith('<p align="center">')
    assert extract(data, "pasted text").text.startswith('<p align="center">')


def test_html_text_keeps_its_punctuation_without_markdown_escapes():
    """QA: an HTML page's "&lt;script&gt;" was stored, shown and searched as
    "\\<script>" (trafilatura's Markdown escapes); "a_b" became "a\\_b"."""
    from kb.extract import extract

    page = ("<html><head><title>Loyalty</title></head><body><h1>Loyalty apps</h1><p>Loyalty "
            "apps reward repeat purchases with points and offers for every member. "
            "&lt;script&gt;alert(1)&lt;/script&gt; should appear as text, and so should "
            "a_b, *stars*, [brackets] and 50% off (today!).</p>"
            "<h2>Rewards</h2><ul><li>Points for each visit</li><li>Offers on birthdays</li>"
            "</ul></body></html>")
    text = extract(page.encode(), "loyalty.html").text
    assert "<script>alert(1)</script> should appear as text" in text
    assert "a_b, *stars*, [brackets] and 50% off (today!)" in text
    assert "\\" not in text
    assert "## Rewards" in text and "- Points for each visit" in text  # structure kept


def test_a_vietnamese_pdf_printed_by_chromium_keeps_its_words_whole():
    """QA: Chromium places a Vietnamese word's glyphs in several runs, and pypdf's plain
    text split them ("Chi ế n l ượ c đ ị nh giá"), so the article was not found by its
    own words. Its title came from the page's <title>."""
    data = (Path(__file__).parent / "data" / "vi-chromium.pdf").read_bytes()
    got = extract(data, "gia.pdf")
    assert got.text.startswith("Chiến lược định giá cho sản phẩm mới\n")
    assert "Định giá thâm nhập đặt giá thấp để nhanh chóng chiếm thị phần." in got.text
    # QA20: its wrapped line is joined, and the heading written out in full beats the
    # page's short <title> ("Chiến lược định giá"), which it begins with.
    assert ("Định giá thâm nhập đặt giá thấp để nhanh chóng chiếm thị phần. Định giá hớt "
            "váng đặt giá cao lúc đầu cho nhóm khách hàng sẵn sàng chi trả."
            in got.text.splitlines())
    assert got.title == "Chiến lược định giá cho sản phẩm mới"


def test_utf8_text_with_a_few_nul_bytes_says_so():
    """QA: a text file with a few NUL bytes was "unsupported file type"."""
    data = ("Kundenbindung beginnt nach dem Kauf. Treue wird belohnt. " * 20).encode()
    data = data[:100] + b"\x00\x00" + data[100:]
    with pytest.raises(ArticleError, match="UTF-8 text but holds 2 NUL bytes"):
        extract(data, "notes.txt")
    with pytest.raises(ArticleError, match="unsupported file type"):  # still binary
        extract(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"x" * 4000, "photo.txt")


@pytest.mark.parametrize("data, name, want", [
    (b"PK\x03\x04" + bytes(range(256)) * 4, "report.docx",
     "the DOCX file is damaged or not a Word document"),
    (b"PK\x03\x04" + b"\x00" * 100, "Bericht.DOCX", "the DOCX file is damaged"),
    (b"\x00\x01\x02\x03" * 100, "broken.pdf", "the PDF file is damaged or not a PDF"),
    (b"%PDF-1.4\n1 0 obj garbage", "broken.pdf", "the PDF file is damaged"),
    (b"PK\x03\x04" + b"\x00" * 100, "archive.zip", "unsupported file type"),
])
def test_a_damaged_docx_or_pdf_is_called_damaged(data, name, want):
    """QA22 F12: a damaged .docx was an "unsupported file type (not text, Markdown, HTML,
    PDF or DOCX)", which told its owner that DOCX is read but theirs is not."""
    with pytest.raises(ArticleError, match=want) as got:
        extract(data, name)
    assert "unsupported" not in got.value.message or name.endswith(".zip")


def test_a_docx_keeps_its_heading_levels_lists_and_table_header():
    """QA13: bullets came out as plain lines, the title and every "Heading 1" all as
    "#", and a table had no header row, so its first row read as data."""
    import io

    import docx

    d = docx.Document()
    d.add_heading("Pricing Psychology", 0)
    d.add_paragraph("Prices shape how customers judge value.")
    d.add_heading("Anchoring", 1)
    d.add_paragraph("A high price shown first anchors the rest.", style="List Bullet")
    d.add_paragraph("A decoy makes the middle option look fair.", style="List Bullet")
    d.add_paragraph("Collect the prices.", style="List Number")
    d.add_paragraph("Compare them.", style="List Number")
    table = d.add_table(rows=2, cols=2)
    for i, row in enumerate([["Tactic", "Risk"], ["Charm pricing", "Cheapens a brand"]]):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    buf = io.BytesIO()
    d.save(buf)
    text = extract(buf.getvalue(), "pricing.docx").text
    assert text.splitlines()[:7] == [
        "# Pricing Psychology", "Prices shape how customers judge value.", "## Anchoring",
        "- A high price shown first anchors the rest.",
        "- A decoy makes the middle option look fair.", "1. Collect the prices.",
        "2. Compare them."]
    assert "| Tactic | Risk |\n|---|---|\n| Charm pricing | Cheapens a brand |" in text


def test_a_pdfs_wrapped_lines_are_joined_into_paragraphs():
    """QA20: every line wrap of a PDF was a newline, where kb/sentences.py ends a
    sentence, so a definition wrapped in three lines was quoted in pieces or never.
    Headings, list items (Chromium draws the bullets, the text has none) and the lines
    after them stay lines. The file is made by tests/data/make_pdfs.py."""
    from kb.sentences import sentences

    got = extract((Path(__file__).parent / "data" / "en-wrapped.pdf").read_bytes(), "a.pdf")
    definition = ("Price anchoring is a pricing tactic in which a seller first shows a high "
                  "reference price so that the price customers pay looks reasonable by "
                  "comparison.")
    assert got.text.splitlines() == [
        "Price Anchoring", definition, "Show the premium plan first.",
        "Measure conversion and refund rates together and share the results with the "
        "team every week.", "Keep it honest", "Using anchors responsibly",
        "An anchor must be a real offer that some customers buy."]
    assert definition in sentences(got.text)
    # Its metadata title, "Microsoft Word - anchoring_draft_v3_FINAL.docx", is Word's,
    # not the author's: the first line decides, as for a text file.
    assert got.title is None


def test_a_korean_pdf_reads_like_its_source():
    """QA20: pypdf read Chromium's Korean with every space doubled, a space before each
    full stop, and words cut at the wraps ("가격  전략입⏎니다 ."), so the article was not
    found by its own words. Made by tests/data/make_pdfs.py from this text."""
    got = extract((Path(__file__).parent / "data" / "ko-wrapped.pdf").read_bytes(), "a.pdf")
    assert [line for line in got.text.splitlines() if line] == [
        "가격 앵커링 전략",
        "가격 앵커링은 먼저 높은 가격을 보여 주어 실제 가격이 합리적으로 보이게 만드는 "
        "가격 전략입니다. 처음 본 숫자는 기준점이 됩니다."]
    assert got.title == "가격 앵커링 전략"  # "가격 앵커링" written out in full


@pytest.mark.parametrize(("lines", "want"), [
    # German: a wrap into a lower-case word, and one at a full line before a noun.
    (["Ein Preisanker ist eine Preistaktik, bei der ein Verkäufer zuerst einen hohen",
      "Referenzpreis zeigt, damit der gezahlte Preis vernünftig wirkt und die Kunden",
      "kaufen.", "So wirkt der Anker", "1. Den teuren Tarif zuerst zeigen.",
      "2. Die Quoten messen."],
     ["Ein Preisanker ist eine Preistaktik, bei der ein Verkäufer zuerst einen hohen "
      "Referenzpreis zeigt, damit der gezahlte Preis vernünftig wirkt und die Kunden kaufen.",
      "So wirkt der Anker", "1. Den teuren Tarif zuerst zeigen.", "2. Die Quoten messen."]),
    # English: a full line that ends in a semicolon goes on.
    (["An anchor must be a real offer that some customers buy at least once a year;",
      "a fake list price that nobody ever pays damages trust.", "Next steps"],
     ["An anchor must be a real offer that some customers buy at least once a year; a "
      "fake list price that nobody ever pays damages trust.", "Next steps"]),
    # Vietnamese, a bulleted item that wraps, and table rows.
    (["Neo giá là chiến thuật định giá trong đó người bán trước tiên đưa ra một mức",
      "giá tham chiếu cao.", "• Hiển thị gói cao cấp trước, rồi đo lường tỷ lệ chuyển",
      "đổi mỗi tuần.", "| Gói | Giá |", "| Pro | 99 |"],
     ["Neo giá là chiến thuật định giá trong đó người bán trước tiên đưa ra một mức giá "
      "tham chiếu cao.", "• Hiển thị gói cao cấp trước, rồi đo lường tỷ lệ chuyển đổi "
      "mỗi tuần.", "| Gói | Giá |", "| Pro | 99 |"]),
    # A full line that ends a sentence is left alone (the next may be a list item whose
    # bullet the PDF does not hold), and so is a short line before a lower-case one.
    (["Measure conversion and refund rates together, and share them with the team.",
      "Show the premium plan first and keep the list price real for every customer.",
      "Keep it honest", "and simple"],
     ["Measure conversion and refund rates together, and share them with the team.",
      "Show the premium plan first and keep the list price real for every customer.",
      "Keep it honest", "and simple"]),
])
def test_wrapped_lines_join_and_structure_stays(lines, want):
    from kb.extract import _join_wrapped

    assert _join_wrapped("\n".join(lines), set()).splitlines() == want


@pytest.mark.parametrize(("meta", "first", "want"), [
    ("Microsoft Word - anchoring_draft_v3_FINAL.docx", "Price Anchoring", None),
    ("Untitled-1", "Price Anchoring", None),
    ("anchoring_draft_v3.pdf", "Price Anchoring", None),
    ("about:blank", "Price Anchoring", None),
    ("Price anchoring", "Price Anchoring in Marketing", "Price Anchoring in Marketing"),
    ("Pricing Handbook 2024", "Chapter 1: Anchors", "Pricing Handbook 2024"),  # kept
    ("Price anchoring", "Price anchoring is a tactic. It works.", "Price anchoring"),
    # QA22 F11: a Korean page's short <title> is the end of its heading.
    ("이메일 마케팅", "온라인 쇼핑몰을 위한 이메일 마케팅", "온라인 쇼핑몰을 위한 이메일 마케팅"),
    ("Preisgestaltung", "Preisgestaltung: ein Leitfaden", "Preisgestaltung: ein Leitfaden"),
    ("Email Marketing", "Why Email Marketing", "Why Email Marketing"),
    # Only as whole words: a longer word that begins or ends like it is another word.
    ("마케팅", "온라인 이메일마케팅", "마케팅"),
    ("Price", "Pricey anchors", "Price"),
    ("Email", "Why Email Works", "Email"),  # inside the heading: not spelled out
])
def test_a_pdfs_generated_metadata_title_gives_way_to_its_heading(meta, first, want):
    """QA20: "Microsoft Word - …docx" and "Untitled-1" were the titles of PDFs whose
    first line was their heading; a title someone wrote stays."""
    from kb.extract import _pdf_title

    assert _pdf_title(meta, first + "\nSome text of the article follows here.") == want
