"""The outline of an article's headings: depth, and what lies under a heading."""

from kb import outline

TEXT = """Title line of the article
6. 성공 사례 분석: 크로스셀링으로 매출을 극대화한 기업들
여러 성공 사례를 분석하는 것이 중요합니다.
6.1. 아마존: 개인 맞춤형 추천 시스템의 선도주자
온라인 소매업의 거인 아마존은 크로스셀링의 모범 사례로 널리 알려져 있습니다.
6.2. 스타벅스: 충성도 프로그램과 크로스셀링의 시너지
스타벅스는 리워드 프로그램을 통해 크로스셀링의 효과를 극대화하고 있습니다.
7. 결론과 다음 단계
이것으로 마칩니다.
7.1. 다음 단계
다음 글에서 이어집니다.
"""


def heads(text: str = TEXT, offset: int = 0) -> list[outline.Heading]:
    return outline.headings([(offset, text)])


def test_numbered_headings_have_their_number_and_depth():
    hs = heads()
    assert [(h.number, h.depth) for h in hs] == [((), 0), ((6,), 1), ((6, 1), 2), ((6, 2), 2),
                                                 ((7,), 1), ((7, 1), 2)]
    assert hs[2].text == "6.1. 아마존: 개인 맞춤형 추천 시스템의 선도주자"
    assert TEXT[hs[2].start:hs[2].end] == hs[2].text


def test_subsections_stop_at_the_next_heading_of_the_same_level():
    hs = heads()
    assert [h.number for h in outline.subsections(hs, hs[1])] == [(6, 1), (6, 2)]
    assert [h.number for h in outline.subsections(hs, hs[4])] == [(7, 1)]
    assert outline.subsections(hs, hs[2]) == []
    assert outline.subsections(hs, hs[0]) == []  # the title has no depth


def test_passages_give_absolute_offsets_and_a_heading_is_counted_once():
    first, second = TEXT[:200], TEXT[200:]
    split = outline.headings([(0, first), (200, second), (200, second)])
    assert [(h.start, h.number) for h in split] == [(h.start, h.number) for h in heads()]


def test_markdown_levels_nest_and_plain_headings_have_none():
    text = ("# Guide\nIntro text here.\n## Pricing\nPrices are set by value.\n"
            "## Channels\nChannels are chosen last.\n# Next\nMore text follows.\n")
    hs = heads(text)
    assert [h.depth for h in hs] == [1, 2, 2, 1]
    assert [h.text for h in outline.subsections(hs, hs[0])] == ["Pricing", "Channels"]
    plain = heads("Upstream Marketing Examples\nSome text about it here.\n")
    assert plain and plain[0].depth == 0 and outline.subsections(plain, plain[0]) == []
