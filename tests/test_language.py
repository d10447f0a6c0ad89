"""Language tagging is deterministic, Hangul-aware and overridable."""

from kb.language import detect, detect_query


def test_korean_with_stray_hanja_stays_korean():
    text = "정교한 이메일 캠페인: 고객의 구매 데이터를分析하여 맞춤형 혜택을 제공합니다."
    assert detect(text) == "ko"
    assert detect("市場 分析 데이터 기반 마케팅") == "ko"


def test_detection_is_deterministic():
    text = "Marketing und Vertrieb arbeiten zusammen, um Kunden besser zu verstehen."
    assert {detect(text) for _ in range(20)} == {"de"}


def test_short_text_falls_back_to_article_language():
    assert detect("Google Analytics", fallback="de") == "de"
    assert detect("", fallback="vi") == "vi"


def test_queries_in_four_languages():
    assert detect_query("What is upstream marketing?") == "en"
    assert detect_query("다운스트림 마케팅이란?") == "ko"
    assert detect_query("Was ist Upstream-Marketing?") == "de"
    assert detect_query("Upselling là gì?") == "vi"
    assert detect_query("Wie sollte das Marketing mit dem Vertriebsteam zusammenarbeiten?") == "de"
