"""Chunking is structure-aware, sized in model tokens and exact in its offsets."""

from __future__ import annotations

import re

from kb.articles import read_article
from kb.chunking import blocks, chunk_text, sections
from kb.sentences import sentences

from .conftest import corpus_files


def count(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]", text)) + 2


def test_offsets_are_exact_on_the_corpus():
    for path in corpus_files():
        art = read_article(path)
        for c in chunk_text(art.text, count):
            assert art.text[c.start : c.end] == c.text
            assert count(c.text) <= 250


def test_numbered_headings_start_sections():
    text = (
        "2. 고객 분석: 타겟 맞춤형 전략\n성공적인 전략은 분석에서 시작됩니다.\n"
        "2.3. 고객 피드백 활용\n고객 피드백은 중요한 요소입니다.\n"
    )
    kinds = [(b.kind, text[b.start : b.end]) for b in blocks(text)]
    assert kinds[0] == ("heading", "2. 고객 분석: 타겟 맞춤형 전략")
    assert kinds[2] == ("heading", "2.3. 고객 피드백 활용")
    sections = {c.section for c in chunk_text(text, count, min_tokens=1)}
    assert sections == {"2. 고객 분석: 타겟 맞춤형 전략", "2.3. 고객 피드백 활용"}


def test_numbered_list_is_not_a_heading():
    text = "Steps to follow:\n1. Research the market.\n2. Build the plan.\nAfter that, sell."
    kinds = [b.kind for b in blocks(text)]
    assert kinds == ["list", "para"]


def test_list_stays_with_its_lead_in():
    text = (
        "Intro paragraph here.\nKey activities:\n- Research: find needs.\n- Planning: set goals.\n"
    )
    lst = [b for b in blocks(text) if b.kind == "list"]
    assert len(lst) == 1 and text[lst[0].start : lst[0].end].startswith("Key activities:")
    for c in chunk_text(text, count, min_tokens=1, max_tokens=250):
        if "- Research" in c.text:
            assert "Key activities:" in c.text


def test_pipe_table_stays_whole_with_header():
    art = read_article(next(p for p in corpus_files() if p.name.startswith("en-")))
    chunks = chunk_text(art.text, count)
    table = [c for c in chunks if "Aspect | Upstream Marketing" in c.text]
    assert len(table) == 1
    assert "Metrics | Customer insights" in table[0].text


def test_long_paragraph_splits_at_sentence_boundaries():
    para = " ".join(f"Satz Nummer {i} beschreibt z.B. die Strategie im Detail." for i in range(60))
    chunks = chunk_text(para, count, max_tokens=120)
    assert len(chunks) > 1
    for c in chunks:
        assert count(c.text) <= 120
        assert c.text.endswith(".") and c.text.startswith("Satz")


def test_sentence_boundaries_in_four_languages():
    assert sentences("기존 고객은 신뢰합니다. 그래서 구매합니다.") == [
        "기존 고객은 신뢰합니다.",
        "그래서 구매합니다.",
    ]
    assert sentences("Das gilt z.B. für Kunden. Und bzw. für Partner.") == [
        "Das gilt z.B. für Kunden.",
        "Und bzw. für Partner.",
    ]
    assert sentences("Upstream vs. downstream differ. See e.g. Nike.") == [
        "Upstream vs. downstream differ.",
        "See e.g. Nike.",
    ]
    assert sentences("Tiếp thị ngược dòng tập trung vào chiến lược. Bán hàng ngắn hạn!") == [
        "Tiếp thị ngược dòng tập trung vào chiến lược.",
        "Bán hàng ngắn hạn!",
    ]


def test_a_headings_number_stays_in_its_sentence():
    """QA20 F5: after Markdown's "#" marks too ("## 3." was a sentence of its own)."""
    assert sentences("## 3. Erfolg messen\n### 1.1. Titel\n  2.1. Eingerückt") == [
        "## 3. Erfolg messen", "### 1.1. Titel", "2.1. Eingerückt"]
    assert sentences("Er kam um 3. Dann ging er.") == ["Er kam um 3.", "Dann ging er."]


def test_a_title_with_a_colon_over_a_paragraph_starts_its_own_chunk():
    """"Downstream Marketing Examples:" ended the chunk before it, so the examples under
    it had no title and were not found by name; a list's lead-in stays a lead-in."""
    from kb.chunking import chunk_text

    benefits = "Benefits of Downstream Marketing:\n" + "".join(
        f"- Benefit {i}: it drives short-term sales.\n" for i in range(4))
    examples = ("Downstream Marketing Examples:\n"
                + "Downstream marketing promotes existing products. " * 30 + "\n")
    text = benefits + examples + "Some channels are:\n- Email\n- Search ads\n"
    chunks = chunk_text(text, lambda s: len(s.split()), min_tokens=40, target=60,
                        max_tokens=200)
    first = next(c for c in chunks if "promotes existing products" in c.text)
    assert "Downstream Marketing Examples:\nDownstream marketing promotes" in first.text
    assert not any(c.text.rstrip().endswith("Examples:") for c in chunks)
    assert chunks[-1].section == "Downstream Marketing Examples"
    assert "Some channels are:\n- Email" in chunks[-1].text


def test_a_word_longer_than_a_chunk_is_cut_into_chunks():
    """Text pasted with no spaces was one chunk however long (a megabyte, cut off by the
    model after 512 tokens); now every chunk fits and the slices still tile the text."""

    def subword_count(text: str) -> int:  # like a real tokenizer: long words, many tokens
        return sum(-(-len(w) // 4) for w in re.findall(r"\w+|[^\w\s]", text)) + 2

    word = "마케팅전략고객분석" * 50_000
    text = f"업스트림 마케팅은 시장을 조사합니다.\n\n{word}\n\n다운스트림 마케팅은 판매합니다."
    chunks = chunk_text(text, subword_count)
    assert len(chunks) > 400
    assert all(subword_count(c.text) <= 250 for c in chunks)
    assert all(text[c.start : c.end] == c.text for c in chunks)
    assert "".join(c.text for c in chunks).replace("\n", "") == text.replace("\n", "")
    assert chunks[0].text.startswith("업스트림") and chunks[-1].text.endswith("판매합니다.")


def test_a_two_column_table_without_outer_pipes_is_a_table():
    """QA round 3: "Name | Value" over "---|---" has one pipe a row, so its rows were
    read as headings (and shown as h2 on the article page)."""
    text = ("Prices for the loyalty tiers, in euros per month.\n\nName | Value\n---|---\n"
            "Alpha | 1\nBeta | 2\n\nAfter the table comes more prose about the tiers.")
    kinds = [(b.kind, text[b.start : b.end]) for b in blocks(text)]
    assert ("table", "Name | Value\n---|---\nAlpha | 1\nBeta | 2") in kinds
    assert not any(k == "heading" and "|" in t for k, t in kinds)
    # One pipe in prose, with no rule line beside it, is not a table.
    prose = "Choose email | social for the launch.\nThen measure the results each week."
    assert all(b.kind != "table" for b in blocks(prose))


def test_a_table_without_a_rule_has_its_first_line_as_header_unless_it_opens_the_text():
    """QA24b F1: "지표 | 의미 | 계산 방법" over its rows, with no "---|---" rule, had no
    header, so no row could be quoted. A passage that opens with table rows may start
    partway down the table: its first row is no header."""
    from kb.chunking import table_rows

    table = ("지표 | 의미 | 계산 방법\nCAC | 고객 획득 비용 | 비용 ÷ 고객 수\n"
             "ROAS | 광고 수익률 | 매출 ÷ 광고비")
    text = "주요 KPI\n" + table
    block = next(b for b in blocks(text) if b.kind == "table")
    header, rows = table_rows(text, block)
    assert header is not None and text[header[0] : header[1]] == "지표 | 의미 | 계산 방법"
    assert [text[a:b].split(" |")[0] for a, b in rows] == ["CAC", "ROAS"]
    block = next(b for b in blocks(table) if b.kind == "table")
    header, rows = table_rows(table, block)
    assert header is None and len(rows) == 3


def test_a_passage_lists_every_section_it_runs_through():
    """A chunk is named by the section it starts in; one that starts with the end of
    "상류 마케팅" and goes on under "다운스트림 마케팅" runs through both (QA: the API said
    only the first, for a passage mostly about the second)."""
    text = ("상류 마케팅\n상류 마케팅은 기반을 다집니다.\n"
            "다운스트림 마케팅\n다운스트림 마케팅은 전술적입니다. 매출을 늘립니다.\n")
    chunk = chunk_text(text, count, min_tokens=10_000)[0]  # too small to split
    assert chunk.section == "상류 마케팅"
    assert sections(chunk.text, chunk.section) == ["상류 마케팅", "다운스트림 마케팅"]
    assert sections("다운스트림 마케팅은 전술적입니다.", "") == []


FENCED = """# UTM-Parameter für Kampagnen

Ein vollständiger Link sieht so aus:

```
https://example.com/?utm_source=newsletter&utm_medium=email
```

## Einbindung

```html
<script async src="https://www.googletagmanager.com/gtag/js?id=G-XXXX"></script>
```

Danach werden die Parameter ausgewertet.
"""


def test_a_code_fence_is_text_not_headings():
    """QA20 F7: the fences, the URL and the <script> line inside were headings (and hits'
    sections); the lead-in before a fence is no title either."""
    from kb.chunking import blocks, sections

    kinds = {FENCED[b.start:b.end]: b.kind for b in blocks(FENCED)}
    assert [t for t, k in kinds.items() if k == "heading"] == [
        "# UTM-Parameter für Kampagnen", "## Einbindung"]
    assert sections(FENCED, "") == ["UTM-Parameter für Kampagnen", "Einbindung"]
    # A fence never closed is no fence: what follows it is read as before.
    unclosed = "```\nsome code\n\n## Einbindung\n\nText."
    assert "## Einbindung" in [unclosed[b.start:b.end] for b in blocks(unclosed)
                               if b.kind == "heading"]
