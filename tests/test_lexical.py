"""Analyzers: the batch path gives what one text at a time gives; no model."""

from __future__ import annotations

import unicodedata

from kb.lexical import analyze, analyze_many


def test_analyze_many_matches_analyze_in_every_language() -> None:
    texts = [
        "크로스셀링은 기존 고객에게 관련 제품을 제안하는 전략입니다.",
        "Cross-selling offers related products to existing customers.",
        unicodedata.normalize("NFD", "업셀링과 번들링을 비교했습니다."),  # decomposed Hangul
        "Das Upstream-Marketing konzentriert sich auf die Strategie.",
        "Tiếp thị ngược dòng tập trung vào chiến lược.",
        "",
    ]
    langs = ["ko", "en", "ko", "de", "vi", "ko"]
    expected = [analyze(t, lang) for t, lang in zip(texts, langs, strict=True)]
    assert analyze_many(texts, langs) == expected
    assert "고객" in expected[0] and expected[2] and expected[5] == []


def test_vietnamese_function_words_are_no_terms() -> None:
    # QA21 F5: "dựa trên" ("based on") in a question lifted the one passage that says it
    # three times, about something else, over the passage on the concept asked about.
    terms = analyze("Hệ thống gợi ý sản phẩm dựa trên lịch sử mua hàng", "vi")
    assert not {"dựa", "trên", "dựa_trên"} & set(terms)
    assert {"gợi_ý", "sản_phẩm", "lịch_sử", "mua_hàng", "hệ_thống"} <= set(terms)
    # A pair of function words is no term; a term with one in it still is ("chỉ số",
    # an indicator, though "chỉ" alone is "only").
    terms = analyze("Chỉ số KPI là gì?", "vi")
    assert "chỉ_số" in terms and "số" in terms
    assert "chỉ" not in terms and "là_gì" not in terms
    # "dựa" alone is a word (to lean), kept where it is not "dựa trên".
    assert "dựa" in analyze("dựa lưng", "vi")


def test_e_mail_is_one_word_as_email_is() -> None:
    # QA22 F6: "E-Mail-Liste" was "e", "mail", "list": nothing of "email" in a passage.
    assert analyze("Wie baue ich eine E-Mail-Liste auf?", "de") == ["bau", "email", "list"]
    assert "email" in analyze("Send an e-mail, or two emails.", "en")
    assert "ecommerc" in analyze("E-commerce shops", "en")
    # Only a word's leading "E-": a compound's "E" stays a letter.
    assert analyze("Vitamin-E-Mangel", "de") == ["vitamin", "e", "mangel"]
