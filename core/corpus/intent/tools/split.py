#!/usr/bin/env python3
"""Stratified ~50/50 split of all.jsonl into dev.jsonl / heldout.jsonl.
Each (lang, family) group is shuffled with a fixed seed and cut in half; for odd-sized
groups the extra item alternates between dev and held-out so the totals stay balanced."""
import json, random
SEED = 15
rows = [json.loads(l) for l in open("all.jsonl", encoding="utf-8")]
groups = {}
for r in rows:
    groups.setdefault((r["lang"], r["family"]), []).append(r)
rng = random.Random(SEED)
dev, held = [], []
odd_turn = 0
for key in sorted(groups):
    g = sorted(groups[key], key=lambda r: r["id"])
    rng.shuffle(g)
    n = len(g)
    k = n // 2
    if n % 2:
        k += odd_turn
        odd_turn ^= 1
    dev += g[:k]
    held += g[k:]
def write(path, rs):
    rs = sorted(rs, key=lambda r: (r["lang"], r["id"]))
    with open(path, "w", encoding="utf-8") as f:
        for r in rs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
write("dev.jsonl", dev)
write("heldout.jsonl", held)
print(f"dev={len(dev)} heldout={len(held)} seed={SEED}")
