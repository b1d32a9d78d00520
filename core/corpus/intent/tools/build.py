#!/usr/bin/env python3
"""Build all.jsonl from src/{lang}.txt (lines: family|text). IDs assigned after a fixed-seed shuffle
so id order carries no label/family information. `read_source` is shared with build_extra.py."""
import json, random
LANGS = ["en", "es", "fr", "de", "pt", "it", "nl"]
POS = {"team", "verb", "elliptic", "frustrated_question", "plain"}
NEG = {"compound", "comparison", "negation", "unrelated_clauses", "ordinary"}


def read_source(path, lang, seen):
    """The (family, text) lines of one source file; a family must be known and a text unique per
    language across everything read with the same `seen`."""
    items = []
    with open(path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            fam, text = line.split("|", 1)
            assert fam in POS | NEG, (lang, ln, fam)
            text = text.strip()
            key = (lang, text.lower())
            assert key not in seen, ("duplicate", lang, text)
            seen.add(key)
            items.append((fam, text))
    return items


def write_rows(rows, path):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(len(rows), "rows written to", path)


if __name__ == "__main__":
    rows = []
    seen = set()
    for lang in LANGS:
        items = read_source(f"src/{lang}.txt", lang, seen)
        random.Random(f"ids-{lang}-2024").shuffle(items)
        for i, (fam, text) in enumerate(items, 1):
            rows.append({"id": f"{lang}-{i:04d}", "lang": lang, "text": text,
                         "human": fam in POS, "family": fam})
    write_rows(rows, "all.jsonl")
