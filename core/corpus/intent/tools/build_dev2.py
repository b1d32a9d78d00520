#!/usr/bin/env python3
"""Build ../dev2.jsonl, the second development part, from src-dev2/{lang}.txt (lines: family|text).

Written after the split by seven writers who saw neither part of the corpus nor the detector, to
tune on more than one writer's wording. It is development data only: never held out, never scored
as such. IDs are assigned after a fixed-seed shuffle so id order carries no label information."""
import json, random

LANGS = ["en", "es", "fr", "de", "pt", "it", "nl"]
POS = {"team", "verb", "elliptic", "frustrated_question", "plain"}
NEG = {"compound", "comparison", "negation", "unrelated_clauses", "ordinary"}
rows, seen = [], set()
for lang in LANGS:
    items = []
    with open(f"src-dev2/{lang}.txt", encoding="utf-8") as f:
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
    random.Random(f"dev2-{lang}").shuffle(items)
    for i, (fam, text) in enumerate(items, 1):
        rows.append({"id": f"{lang}-d2-{i:04d}", "lang": lang, "text": text, "human": fam in POS, "family": fam})
with open("../dev2.jsonl", "w", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(len(rows), "rows written to ../dev2.jsonl")
