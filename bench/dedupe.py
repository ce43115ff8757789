"""Duplicate detection on the demo data: character bigrams vs jieba words (run by hand).

    .venv/bin/python bench/dedupe.py [--database weihai_bench_intake] [--enterprises 1500]

Reads (never writes) a database filled by the demo generator (`seed_demo`, the scale data in
weihai_bench copies). For a random sample of enterprises it takes every ticket and builds:

- negatives: every pair of two different tickets of one enterprise with the same kind and a
  compatible category (equal, or one blank) — exactly the pairs the import compares. The
  demo's texts are "<title>。<one of five stock sentences>", so many of these pairs share a
  whole sentence; pairs with the *same* title are counted apart ("same-title pairs"): they
  are different needs by construction but no text measure can tell them apart;
- positives: each ticket as a work group would write it down again on the next visit
  (seeded perturbations: another stock sentence or none, a prefix such as "企业反映：", a
  clause dropped or two swapped, punctuation and spacing changed, a few words replaced by
  synonyms, an added remark).

Each measure scores every pair (Jaccard of bigram sets; Jaccard of jieba word sets, stop
punctuation removed; each on title + description, on the title alone, and the mean of the
two); precision and
recall are printed for thresholds 0.3 … 0.8. jieba is a bench extra
(`pip install jieba`); without it only the bigram rows are printed.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
parser.add_argument("--database", default="weihai_bench_intake")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--enterprises", type=int, default=1500)
parser.add_argument("--seed", type=int, default=20261203)
args = parser.parse_args()

os.environ["DATABASE_URL"] = f"postgres://postgres@{args.host}:5432/{args.database}"
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DOTENV_FILE", "")
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "weihai.settings")

import django  # noqa: E402

django.setup()

from intake import similarity  # noqa: E402
from tickets.demo import DETAILS  # noqa: E402
from tickets.models import Ticket  # noqa: E402

PREFIXES = ("企业反映：", "据企业介绍，", "走访了解到，", "")
SYNONYMS = (
    ("协调", "协助"),
    ("尽快", "加快"),
    ("需要", "需"),
    ("希望", "盼望"),
    ("解决", "处理"),
    ("企业", "公司"),
    ("项目", "工程"),
)
REMARKS = ("（二次走访）", "请予支持。", "已电话确认。", "")


def rewrite(title: str, description: str, rng: random.Random) -> tuple[str, str]:
    """The same need as the next visit's notes put it."""
    body = description[len(title) + 1 :] if description.startswith(title + "。") else description
    if body in DETAILS and rng.random() < 0.5:
        body = rng.choice([d for d in DETAILS if d != body] + [""])
    clauses = [c for c in body.replace("，", "。").split("。") if c]
    if len(clauses) > 1 and rng.random() < 0.4:
        clauses.pop(rng.randrange(len(clauses)))
    if len(clauses) > 1 and rng.random() < 0.3:
        i = rng.randrange(len(clauses) - 1)
        clauses[i], clauses[i + 1] = clauses[i + 1], clauses[i]
    body = "，".join(clauses)
    new_title = title
    for old, new in rng.sample(SYNONYMS, 3):
        if rng.random() < 0.5:
            body = body.replace(old, new)
        if rng.random() < 0.3:
            new_title = new_title.replace(old, new)
    if rng.random() < 0.3:
        new_title = new_title + "问题"
    text = f"{rng.choice(PREFIXES)}{new_title}，{body}{rng.choice(REMARKS)}"
    if rng.random() < 0.3:
        text = text.replace("，", " ")
    return new_title, text


def load_jieba():
    try:
        import jieba
    except ImportError:
        return None
    jieba.setLogLevel(60)
    started = time.perf_counter()
    jieba.initialize()
    print(f"jieba dictionary loaded in {time.perf_counter() - started:.2f} s")

    def words(text: str) -> frozenset[str]:
        return frozenset(w for w in jieba.lcut(similarity.normalise(text)) if w.strip())

    return words


def main() -> None:
    rng = random.Random(args.seed)
    ids = list(Ticket.objects.order_by().values_list("enterprise_id", flat=True).distinct()[:50000])
    sample = rng.sample(ids, min(args.enterprises, len(ids)))
    tickets = list(
        Ticket.objects.filter(enterprise_id__in=sample).values(
            "pk", "enterprise_id", "kind", "category", "title", "description"
        )
    )
    by_enterprise: dict[int, list[dict]] = {}
    for t in tickets:
        by_enterprise.setdefault(t["enterprise_id"], []).append(t)
    negatives, same_title = [], 0
    for rows in by_enterprise.values():
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                if a["kind"] != b["kind"]:
                    continue
                if a["category"] and b["category"] and a["category"] != b["category"]:
                    continue
                pair = ((a["title"], a["description"]), (b["title"], b["description"]))
                if a["title"] == b["title"]:
                    same_title += 1
                negatives.append((pair, a["title"] == b["title"]))
    positives = [
        ((t["title"], t["description"]), rewrite(t["title"], t["description"], rng))
        for t in tickets
    ]
    print(
        f"{len(sample)} enterprises, {len(tickets)} tickets: {len(positives)} positive pairs, "
        f"{len(negatives)} negative pairs ({same_title} of them with the same title)"
    )

    measures = {"bigram": similarity.bigrams}
    words = load_jieba()
    if words is not None:
        measures["jieba"] = words

    thresholds = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    for name, tokens in measures.items():
        for scope in ("title+description", "title", "mean of the two"):
            cache: dict[str, frozenset] = {}

            def score(pair, tokens=tokens, scope=scope, cache=cache):
                (t1, d1), (t2, d2) = pair

                def jac(a, b):
                    for text in (a, b):
                        if text not in cache:
                            cache[text] = tokens(text)
                    return similarity.jaccard(cache[a], cache[b])

                title = jac(t1, t2)
                if scope == "title":
                    return title
                whole = jac(f"{t1} {d1}", f"{t2} {d2}")
                return whole if scope == "title+description" else (title + whole) / 2

            started = time.perf_counter()
            pos = [score(p) for p in positives]
            neg = [(score(p), same) for p, same in negatives]
            elapsed = time.perf_counter() - started
            print(f"\n{name}, {scope} ({elapsed:.2f} s for {len(pos) + len(neg)} pairs)")
            print("  threshold  precision  recall  precision(excl. same-title)  flagged negatives")
            for threshold in thresholds:
                tp = sum(s >= threshold for s in pos)
                fp = sum(s >= threshold for s, _same in neg)
                fp_other = sum(s >= threshold for s, same in neg if not same)
                precision = tp / (tp + fp) if tp + fp else float("nan")
                precision_other = tp / (tp + fp_other) if tp + fp_other else float("nan")
                print(
                    f"  {threshold:9.1f}  {precision:9.3f}  {tp / len(pos):6.3f}  "
                    f"{precision_other:27.3f}  {fp:6d}"
                )


if __name__ == "__main__":
    main()
