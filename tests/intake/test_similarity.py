"""The duplicate rule as a table: pure, no database."""

import pytest

from intake.similarity import bigrams, fingerprint, jaccard, normalise, same_need, similarity


def test_normalise_drops_punctuation_spaces_and_folds_width():
    assert normalise("用电 增容，（ＡＢ）审批！") == "用电增容ab审批"


def test_bigrams_and_jaccard():
    assert bigrams("用电增容") == {"用电", "电增", "增容"}
    assert bigrams("电") == {"电"} and bigrams("，") == frozenset()
    assert jaccard({"a", "b"}, {"b", "c"}) == pytest.approx(1 / 3)
    assert jaccard(set(), set()) == 0.0


@pytest.mark.parametrize(
    ("a", "b", "duplicate"),
    [
        # the same need written down again
        (
            ("新厂房用电增容", "厂房扩建需增容800千伏安，请协调供电公司。"),
            ("新厂房用电增容问题", "企业反映：厂房扩建需要增容800千伏安，请协调供电公司"),
            True,
        ),
        # the same stock sentence, different needs
        (
            ("新建厂房项目用地指标协调", "企业已多次沟通未果，请求政府帮助协调。"),
            ("工业用地不动产权证办理滞后", "企业已多次沟通未果，请求政府帮助协调。"),
            False,
        ),
        # unrelated
        (("出口退税进度", "上季度退税未到账。"), ("人才公寓申请", "博士团队需要住房。"), False),
    ],
)
def test_same_need_by_text(a, b, duplicate):
    score = similarity(fingerprint(*a), fingerprint(*b))
    assert same_need("difficulty", "land", "difficulty", "land", score) is duplicate


def test_kind_and_category_must_agree():
    assert not same_need("difficulty", "", "funding", "", 1.0)
    assert not same_need("difficulty", "land", "difficulty", "energy", 1.0)
    assert same_need("difficulty", "", "difficulty", "energy", 1.0)
