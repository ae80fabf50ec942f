"""Compare NLU pipelines on a development split, never on the held-out set.

Carves a stratified 20 % development split out of the training data (nlu_data/ without
nlu_data/test/), trains the NLU part of each given config on the other 80 % and reports intent
accuracy and macro-F1 on the split, next to the char n-gram baseline of `make eval` on the same
split, and what the FallbackClassifier would do at a few thresholds (answered right, answered
wrong, asked back). Choose the pipeline here; `make eval` then measures the chosen one once on
nlu_data/test.

    .venv-rasa/bin/python scripts/tune.py bot/config.yml other.yml [--seeds 0 1]

Results go to var/tune/<config>-<seed>/ and var/tune/summary.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval import RASA, ROOT, baseline_model, load_examples, load_training_data

OUT = ROOT / "var" / "tune"
FALLBACK_THRESHOLDS = (0.2, 0.25, 0.3, 0.4, 0.5)


def split(seed: int, into: Path) -> tuple[Path, Path]:
    """Write train.yml and dev.yml (stratified by intent and FAQ key) into `into`."""
    train, dev = load_training_data().train_test_split(train_frac=0.8, random_seed=seed)
    into.mkdir(parents=True, exist_ok=True)
    (into / "train.yml").write_text(train.nlu_as_yaml(), encoding="utf-8")
    (into / "dev.yml").write_text(dev.nlu_as_yaml(), encoding="utf-8")
    return into / "train.yml", into / "dev.yml"


def baseline(train: Path, dev: Path) -> dict[str, float]:
    """`make eval`'s baseline on the same split."""
    from sklearn.metrics import accuracy_score, f1_score

    train_x, train_y = load_examples([train])
    dev_x, dev_y = load_examples([dev])
    predicted = baseline_model().fit(train_x, train_y).predict(dev_x)
    return {"accuracy": float(accuracy_score(dev_y, predicted)),
            "macro_f1": float(f1_score(dev_y, predicted, average="macro", zero_division=0))}


def evaluate(config: Path, seed: int, train: Path, dev: Path) -> dict[str, Any]:
    name = f"{config.stem}-{seed}"
    out = OUT / name
    started = time.monotonic()
    subprocess.run([RASA, "train", "nlu", "--config", str(config), "--nlu", str(train),
                    "--domain", "bot/domain", "--out", str(out),
                    "--fixed-model-name", "model"], cwd=ROOT, check=True)
    seconds = time.monotonic() - started
    subprocess.run([RASA, "test", "nlu", "--model", str(out / "model.tar.gz"), "--nlu",
                    str(dev), "--out", str(out / "report"), "--successes"], cwd=ROOT, check=True)
    report = json.loads((out / "report" / "intent_report.json").read_text())
    entities = [json.loads(path.read_text()) for path in sorted((out / "report").glob(
        "*_report.json")) if path.stem.removesuffix("_report").endswith(("Classifier",
                                                                         "Extractor"))]
    entity_f1 = max((e.get("micro avg", {}).get("f1-score", 0.0) for e in entities),
                    default=None)
    return {"config": str(config), "seed": seed, "train_seconds": round(seconds),
            "accuracy": report["accuracy"], "macro_f1": report["macro avg"]["f1-score"],
            "entity_f1": entity_f1, "fallback": fallback_outcomes(out / "report")}


def fallback_outcomes(report: Path) -> dict[str, list[int]]:
    """What the FallbackClassifier would make of the split at each threshold: how many
    messages get a right answer, a wrong one, or are asked back (below the threshold)."""
    def confidences(name: str) -> list[float]:
        rows = json.loads((report / name).read_text())
        return [row["intent_prediction"]["confidence"] for row in rows]

    right, wrong = confidences("intent_successes.json"), confidences("intent_errors.json")
    return {str(t): [sum(c >= t for c in right), sum(c >= t for c in wrong),
                     sum(c < t for c in right + wrong)] for t in FALLBACK_THRESHOLDS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("configs", nargs="+", type=Path)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for seed in args.seeds:
        train, dev = split(seed, OUT / f"split-{seed}")
        base = baseline(train, dev)
        rows.append({"config": "baseline (char n-gram SVM)", "seed": seed, **base})
        for config in args.configs:
            print(f"==> {config} on split {seed}", flush=True)
            rows.append(evaluate(config, seed, train, dev))
    (OUT / "summary.json").write_text(json.dumps(rows, indent=2))
    print(f"{'config':<40} {'seed':>4} {'accuracy':>9} {'macro-F1':>9} {'entity-F1':>9} "
          f"{'train s':>8}")
    for row in rows:
        entity = f"{row['entity_f1']:.3f}" if row.get("entity_f1") is not None else "-"
        print(f"{row['config']:<40} {row['seed']:>4} {row['accuracy']:>9.3f} "
              f"{row['macro_f1']:>9.3f} {entity:>9} {row.get('train_seconds', '-'):>8}")
    print("\nFallbackClassifier threshold: answered right / answered wrong / asked back")
    print(f"{'config':<40} {'seed':>4} " + " ".join(f"{t:>14}" for t in FALLBACK_THRESHOLDS))
    for row in rows:
        if "fallback" in row:
            cells = ("/".join(map(str, row["fallback"][str(t)])) for t in FALLBACK_THRESHOLDS)
            print(f"{row['config']:<40} {row['seed']:>4} " + " ".join(f"{c:>14}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
