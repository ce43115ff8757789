"""How alike two needs read. Pure: no Django, no ORM.

Chinese has no spaces between words, so text is compared as sets of character bigrams
(overlapping pairs of characters, after dropping punctuation and spaces) with the Jaccard
index. A word segmenter (jieba) was measured against this on the demo data
(bench/dedupe.py, bench/README.md "Import"): bigrams were at least as precise at the
threshold used, need no dictionary (jieba loads a 20 MB one, ~1 s per process) and cannot
split a company-specific term wrongly — so bigrams it is, and jieba is only a bench extra.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

# Two needs of one enterprise, kind and category whose title + description share at least
# this share of their bigrams are flagged as possible duplicates (bench/dedupe.py: the
# threshold with the best precision at a recall above 0.9 on the demo data).
DUPLICATE_THRESHOLD = 0.5


def normalise(text: str) -> str:
    """Lower case, full-width forms folded (NFKC), punctuation, symbols and spaces dropped."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def bigrams(text: str) -> frozenset[str]:
    chars = normalise(text)
    if len(chars) < 2:
        return frozenset({chars}) if chars else frozenset()
    return frozenset(chars[i : i + 2] for i in range(len(chars) - 1))


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    a, b = set(a), set(b)
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def need_text(title: str, description: str) -> str:
    return f"{title or ''} {description or ''}"


def fingerprint(title: str, description: str) -> frozenset[str]:
    """What two needs are compared on (computed once per need)."""
    return bigrams(need_text(title, description))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    return jaccard(a, b)


def same_need(kind_a: str, category_a: str, kind_b: str, category_b: str, score: float) -> bool:
    """The duplicate rule: same kind, the same category (or one of them left blank), and
    text at least DUPLICATE_THRESHOLD alike."""
    if kind_a != kind_b:
        return False
    if category_a and category_b and category_a != category_b:
        return False
    return score >= DUPLICATE_THRESHOLD
