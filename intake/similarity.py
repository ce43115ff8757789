"""How alike two needs read. Pure: no Django, no ORM.

Chinese has no spaces between words, so text is compared as sets of character bigrams
(overlapping pairs of characters, after dropping punctuation and spaces) with the Jaccard
index: the score of two needs is the mean of their titles' and their whole texts' (title +
description) Jaccard. A word segmenter (jieba) was measured against this on the demo data
(bench/dedupe.py, figures in bench/README.md "Import"): at the threshold below bigrams had
precision 0.909 at recall 0.993, jieba 0.905 at 0.995 — no better, while it loads a 20 MB
dictionary (~4 s per process) and costs 5x the time per pair. Bigrams it is; jieba is only
a bench extra. The title weighs in on its own because work groups keep a need's title and
rewrite the rest, and the demo's descriptions share stock sentences that make two different
needs of one enterprise look alike on the whole text alone.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

# Two needs of one enterprise, kind and category scoring at least this are flagged as
# possible duplicates (bench/dedupe.py: the best precision at a recall above 0.95).
DUPLICATE_THRESHOLD = 0.4


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
    a = a if isinstance(a, (set, frozenset)) else set(a)
    b = b if isinstance(b, (set, frozenset)) else set(b)
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


Fingerprint = tuple[frozenset[str], frozenset[str]]


def fingerprint(title: str, description: str) -> Fingerprint:
    """What two needs are compared on (computed once per need): the bigrams of the title and
    of title + description."""
    return bigrams(title), bigrams(f"{title or ''} {description or ''}")


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    return (jaccard(a[0], b[0]) + jaccard(a[1], b[1])) / 2


def same_need(kind_a: str, category_a: str, kind_b: str, category_b: str, score: float) -> bool:
    """The duplicate rule: same kind, the same category (or one of them left blank), and
    text at least DUPLICATE_THRESHOLD alike."""
    if kind_a != kind_b:
        return False
    if category_a and category_b and category_a != category_b:
        return False
    return score >= DUPLICATE_THRESHOLD
