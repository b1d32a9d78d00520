#!/usr/bin/env python3
import json, collections, difflib, re, itertools
LANGS = ["en", "es", "fr", "de", "pt", "it", "nl"]
FAMS = ["team", "verb", "elliptic", "frustrated_question", "plain",
        "compound", "comparison", "negation", "unrelated_clauses", "ordinary"]
POS = set(FAMS[:5])
data = {}
for name in ["dev", "heldout"]:
    rs = []
    with open(f"{name}.jsonl", encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            r = json.loads(line)  # raises on invalid JSON
            assert set(r) == {"id", "lang", "text", "human", "family"}, (name, i)
            assert r["lang"] in LANGS and r["family"] in FAMS and isinstance(r["human"], bool)
            assert r["human"] == (r["family"] in POS), r
            assert re.fullmatch(rf"{r['lang']}-\d{{4}}", r["id"]), r["id"]
            assert r["text"].strip()
            rs.append(r)
    data[name] = rs
ids = [r["id"] for rs in data.values() for r in rs]
assert len(ids) == len(set(ids)), "duplicate ids"
allrows = [json.loads(l) for l in open("all.jsonl", encoding="utf-8")]
assert sorted(ids) == sorted(r["id"] for r in allrows)
print("valid JSON, schema OK, ids unique:", len(ids))
ab = {f: a for f, a in zip(FAMS, ["tea","ver","ell","frq","pla","cmp","cpr","neg","unr","ord"])}
for name, rs in data.items():
    c = collections.Counter((r["lang"], r["family"]) for r in rs)
    print(f"\n{name}: {len(rs)}  (T=true F=false)")
    print("lang " + " ".join(ab[f] for f in FAMS) + "   T   F  tot")
    for L in LANGS:
        t = sum(c[(L, f)] for f in FAMS[:5]); fl = sum(c[(L, f)] for f in FAMS[5:])
        assert all(c[(L, f)] > 0 for f in FAMS), (name, L)
        print(f"{L:4} " + " ".join(f"{c[(L, f)]:3}" for f in FAMS) + f" {t:3} {fl:3} {t+fl:4}")
    T = sum(r["human"] for r in rs)
    print(f"all  " + " ".join(f"{sum(c[(L,f)] for L in LANGS):3}" for f in FAMS) + f" {T:3} {len(rs)-T:3} {len(rs):4}")
tot = collections.Counter(r["lang"] for r in allrows)
print("\nper-language totals:", dict(tot), "total", len(allrows))
# cross-file near-duplicate check
def norm(t): return re.sub(r"[^\w ]", "", t.lower()).split()
best = []
for a in data["dev"]:
    for b in data["heldout"]:
        if a["lang"] != b["lang"]: continue
        wa, wb = norm(a["text"]), norm(b["text"])
        ratio = difflib.SequenceMatcher(None, " ".join(wa), " ".join(wb)).ratio()
        sm = difflib.SequenceMatcher(None, wa, wb)
        we = sum(max(i2-i1, j2-j1) for op,i1,i2,j1,j2 in sm.get_opcodes() if op != "equal")
        best.append((ratio, we, a["text"], b["text"]))
best.sort(reverse=True)
print("max cross-file similarity:", round(best[0][0], 2), "| pairs with ratio>=0.8:", sum(1 for x in best if x[0] >= 0.8),
      "| pairs differing by <=1 word:", sum(1 for x in best if x[1] <= 1))
for x in best[:5]: print("  ", round(x[0],2), x[1], "|", x[2], "||", x[3])
