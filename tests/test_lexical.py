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
