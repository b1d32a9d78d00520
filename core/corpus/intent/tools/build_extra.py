#!/usr/bin/env python3
"""Build a part written after the split: `build_extra.py dev2` makes ../dev2.jsonl from
src-dev2/{lang}.txt (`dev3` to `dev5` likewise from src-dev3/ to src-dev5/), `build_extra.py validation` makes ../validation.jsonl from src-val/{lang}.txt
(lines: family|text).

All were written by writers who saw neither the corpus nor the detector. dev2 and dev3 are tuned
on, to see more than one writer's wording; validation is only scored, to see whether a tuning pass
generalises before the held-out part is read. IDs are assigned after a fixed-seed shuffle so id
order carries no label information."""
import json, random, sys

PART = sys.argv[1]
SRC, TAG = {"dev2": ("src-dev2", "d2"), "dev3": ("src-dev3", "d3"), "dev4": ("src-dev4", "d4"), "dev5": ("src-dev5", "d5"), "validation": ("src-val", "v")}[PART]

LANGS = ["en", "es", "fr", "de", "pt", "it", "nl"]
POS = {"team", "verb", "elliptic", "frustrated_question", "plain"}
NEG = {"compound", "comparison", "negation", "unrelated_clauses", "ordinary"}
rows, seen = [], set()
for lang in LANGS:
    items = []
    with open(f"{SRC}/{lang}.txt", encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            fam, text = line.split("|", 1)
            assert fam in POS | NEG, (lang, ln, fam)
            key = (lang, text.strip().lower())
            assert key not in seen, ("duplicate", lang, text)
            seen.add(key)
            items.append((fam, text.strip()))
    random.Random(f"{PART}-{lang}").shuffle(items)
    for i, (fam, text) in enumerate(items, 1):
        rows.append({"id": f"{lang}-{TAG}-{i:04d}", "lang": lang, "text": text, "human": fam in POS, "family": fam})
with open(f"../{PART}.jsonl", "w", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(len(rows), f"rows written to ../{PART}.jsonl")
