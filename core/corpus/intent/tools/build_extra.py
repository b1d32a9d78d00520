#!/usr/bin/env python3
"""Build a part written after the split: `build_extra.py dev2` makes ../dev2.jsonl from
src-dev2/{lang}.txt (`dev3` to `dev8` likewise from src-dev3/ to src-dev8/), `build_extra.py validation` makes ../validation.jsonl from src-val/{lang}.txt
(lines: family|text).

All were written by writers who saw neither the corpus nor the detector. dev2 and dev3 are tuned
on, to see more than one writer's wording; validation is only scored, to see whether a tuning pass
generalises before the held-out part is read. IDs are assigned after a fixed-seed shuffle so id
order carries no label information."""
import json, os, random, sys

from build import LANGS, POS, read_source, write_rows

PART = sys.argv[1]
SRC, TAG = {
    "dev2": ("src-dev2", "d2"),
    "dev3": ("src-dev3", "d3"),
    "dev4": ("src-dev4", "d4"),
    "dev5": ("src-dev5", "d5"),
    "dev6": ("src-dev6", "d6"),
    "dev7": ("src-dev7", "d7"),
    "dev8": ("src-dev8", "d8"),
    "validation": ("src-val", "v"),
}[PART]
rows, seen = [], set()
# A line a writer happened to write exactly as a held-out or validation message ("echter Mensch
# bitte") is dropped unread: tuning on it would tune on those parts.
unseen = set()
if PART != "validation":
    for part in ("heldout", "validation"):
        with open(f"../{part}.jsonl", encoding="utf-8") as f:
            unseen.update(json.loads(line)["text"].strip().lower() for line in f)
for lang in LANGS:
    if not os.path.exists(f"{SRC}/{lang}.txt"):  # a part may cover some languages only (dev8)
        continue
    items = [(fam, text) for fam, text in read_source(f"{SRC}/{lang}.txt", lang, seen) if text.lower() not in unseen]
    random.Random(f"{PART}-{lang}").shuffle(items)
    for i, (fam, text) in enumerate(items, 1):
        rows.append({"id": f"{lang}-{TAG}-{i:04d}", "lang": lang, "text": text, "human": fam in POS, "family": fam})
write_rows(rows, f"../{PART}.jsonl")
