#!/usr/bin/env python3
"""Train the explicit-request model (core/src/rules/intent/model.bin) on the development parts.

    cargo run -q -p handoff-core --example intent_features > /tmp/features.tsv
    python3 train_model.py /tmp/features.tsv

Features come from the detector's own code (`model::features`), so training and detection hash
alike. A logistic regression (scikit-learn, L2, C=16, lbfgs: deterministic for the same input) over
binary features scaled to unit length, as `model::probability` reads them. Only the development
parts are trained on; the validation part's figures (never its messages) are printed, for the
rules alone and for the rules with the model's second opinion (`model::TAKE_BACK_BELOW`,
`model::HEAR_ABOVE`, chosen on those figures). The held-out part is never read.

Writes model.bin: b"HOI2", scale (f32), bias (f32), bucket count (u32), then one i8 weight per
bucket (weight = i8 * scale); model_golden.tsv: the probability of the first six training
messages of each language, which a test compares with the Rust code's; and model_features.sha256:
the digest of every training message's features, which a test recomputes, so a change to how
messages are read fails until the model is retrained.

The "rules and model" figure (with a second argument: `id<TAB>0|1` per validation message, what
the rules alone decided) only approximates the detector: it leaves out when the model may hear
alone. `cargo run -p handoff-core --example intent_report` gives the real figures."""
import hashlib, struct, sys

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

BUCKETS = 1 << 18
C = 16.0
TAKE_BACK_BELOW, HEAR_ABOVE = 0.1, 0.85
OUT = "../../../src/rules/intent/"


def read(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        part, ident, label, feats = line.rstrip("\n").split("\t")
        rows.append((part, ident, label == "1", [int(f) for f in feats.split(",") if f]))
    return rows


def matrix(rows):
    data, indices, indptr = [], [], [0]
    for _, _, _, feats in rows:
        weight = 1.0 / np.sqrt(len(feats)) if feats else 0.0
        data.extend([weight] * len(feats))
        indices.extend(feats)
        indptr.append(len(indices))
    return csr_matrix((np.array(data, dtype=np.float64), indices, indptr), shape=(len(rows), BUCKETS))


def figures(predicted, truth):
    tp = int((predicted & truth).sum())
    fp = int((predicted & ~truth).sum())
    fn = int((~predicted & truth).sum())
    return f"precision {tp / max(tp + fp, 1):.3f} recall {tp / max(tp + fn, 1):.3f}"


def main():
    rows = read(sys.argv[1])
    train = [r for r in rows if r[0] != "validation"]
    validation = [r for r in rows if r[0] == "validation"]
    model = LogisticRegression(C=C, max_iter=5000, solver="lbfgs")
    model.fit(matrix(train), np.array([r[2] for r in train]))
    weights = model.coef_[0]
    scale = float(np.abs(weights).max()) / 127.0
    quantized = np.round(weights / scale).astype("i1")
    bias = float(model.intercept_[0])
    with open(OUT + "model.bin", "wb") as f:
        f.write(b"HOI2" + struct.pack("<ffI", scale, bias, BUCKETS) + quantized.tobytes())

    def probability(feats):
        if not feats:
            return 1.0 / (1.0 + np.exp(-bias))
        z = bias + float(quantized[feats].astype(np.float64).sum() * scale) / np.sqrt(len(feats))
        return 1.0 / (1.0 + np.exp(-z))

    per_language = {}
    for row in train:
        per_language.setdefault(row[1].split("-")[0], []).append(row)
    with open(OUT + "model_golden.tsv", "w", encoding="utf-8") as f:
        for rows_of_language in per_language.values():
            for _, ident, _, feats in rows_of_language[:6]:
                f.write(f"{ident}\t{probability(feats):.6f}\n")
    digest = hashlib.sha256()
    for _, ident, _, feats in train:
        digest.update(f"{ident}\t{','.join(map(str, feats))}\n".encode())
    with open(OUT + "model_features.sha256", "w", encoding="utf-8") as f:
        f.write(digest.hexdigest() + "\n")
    if validation:
        truth = np.array([r[2] for r in validation])
        p = np.array([probability(r[3]) for r in validation])
        print("validation, the model alone:", figures(p > 0.5, truth))
        rules = sys.argv[2] if len(sys.argv) > 2 else None
        if rules:
            fired = dict(line.rstrip("\n").split("\t") for line in open(rules, encoding="utf-8"))
            r = np.array([fired[ident] == "1" for _, ident, _, _ in validation])
            print("validation, the rules alone:", figures(r, truth))
            print("validation, rules and model:", figures((r & (p >= TAKE_BACK_BELOW)) | (p > HEAR_ABOVE), truth))


if __name__ == "__main__":
    main()
