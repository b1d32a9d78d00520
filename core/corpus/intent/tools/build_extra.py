#!/usr/bin/env python3
"""Build a part written after the split: `build_extra.py dev2` makes ../dev2.jsonl from
src-dev2/{lang}.txt (`dev3` to `dev7` likewise from src-dev3/ to src-dev7/), `build_extra.py validation` makes ../validation.jsonl from src-val/{lang}.txt
(lines: family|text).

All were written by writers who saw neither the corpus nor the detector. dev2 and dev3 are tuned
on, to see more than one writer's wording; validation is only scored, to see whether a tuning pass
generalises before the held-out part is read. IDs are assigned after a fixed-seed shuffle so id
order carries no label information."""
import random, sys

from build import LANGS, POS, read_source, write_rows

PART = sys.argv[1]
SRC, TAG = {
    "dev2": ("src-dev2", "d2"),
    "dev3": ("src-dev3", "d3"),
    "dev4": ("src-dev4", "d4"),
    "dev5": ("src-dev5", "d5"),
    "dev6": ("src-dev6", "d6"),
    "dev7": ("src-dev7", "d7"),
    "validation": ("src-val", "v"),
}[PART]
rows, seen = [], set()
for lang in LANGS:
    items = read_source(f"{SRC}/{lang}.txt", lang, seen)
    random.Random(f"{PART}-{lang}").shuffle(items)
    for i, (fam, text) in enumerate(items, 1):
        rows.append({"id": f"{lang}-{TAG}-{i:04d}", "lang": lang, "text": text, "human": fam in POS, "family": fam})
write_rows(rows, f"../{PART}.jsonl")
