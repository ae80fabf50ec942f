"""Compare NLU pipelines on a development split, never on the held-out set.

Carves a stratified 20 % development split out of the training data (nlu_data/ without
nlu_data/test/), trains the NLU part of each given config on the other 80 % and reports intent
accuracy and macro-F1 on the split, next to the char n-gram baseline of `make eval` on the same
split, and what the FallbackClassifier would do at a few thresholds (answered right, answered
wrong, asked back). It also reports macro-F1 on a copy of the split with homophone typos, the
kind a pinyin input method makes (要走 -> 摇走): each Chinese character, with probability 0.1,
becomes another character of the training part that sounds the same. Choose the pipeline here;
`make eval` then measures the chosen one once on nlu_data/test.

    .venv-rasa/bin/python scripts/tune.py bot/config.yml other.yml [--seeds 0 1]

Results go to var/tune/<config>-<seed>/ and var/tune/summary.json.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval import RASA, ROOT, baseline_model, entity_report, load_examples, load_training_data

OUT = ROOT / "var" / "tune"
FALLBACK_THRESHOLDS = (0.2, 0.25, 0.3, 0.4, 0.5)


def split(seed: int, into: Path) -> tuple[Path, Path, Path]:
    """Write train.yml, dev.yml (stratified by intent and FAQ key) and dev-typos.yml (dev.yml
    with homophone typos) into `into`."""
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    train, dev = load_training_data().train_test_split(train_frac=0.8, random_seed=seed)
    typo = homophone_typos(train, random.Random(seed))
    typos = TrainingData([Message(data={**m.data, "text": typo(m.get("text"))})
                          for m in dev.intent_examples])
    into.mkdir(parents=True, exist_ok=True)
    for name, data in (("train", train), ("dev", dev), ("dev-typos", typos)):
        (into / f"{name}.yml").write_text(data.nlu_as_yaml(), encoding="utf-8")
    return into / "train.yml", into / "dev.yml", into / "dev-typos.yml"


def homophone_typos(train: Any, rng: random.Random, rate: float = 0.1) -> Callable[[str], str]:
    """A function that swaps each Chinese character, with probability `rate`, for another
    character of the training texts with the same toneless pinyin (characters with one reading
    only, so that the sound is certain)."""
    from pypinyin import Style, pinyin

    def reading(char: str) -> str | None:
        if not "\u4e00" <= char <= "\u9fff":  # digits, Latin letters, punctuation
            return None
        readings = pinyin(char, style=Style.NORMAL, heteronym=True)[0]
        return readings[0] if len(readings) == 1 else None

    chars = sorted({c for m in train.training_examples for c in m.get("text") or ""})
    by_sound: dict[str, list[str]] = {}
    for char in chars:
        sound = reading(char)
        if sound:
            by_sound.setdefault(sound, []).append(char)

    def typo(text: str) -> str:
        out = []
        for char in text:
            sound = reading(char) if rng.random() < rate else None
            others = [c for c in by_sound.get(sound or "", []) if c != char]
            out.append(rng.choice(others) if others else char)
        return "".join(out)

    return typo


def baseline(train: Path, dev: Path, typos: Path) -> dict[str, float]:
    """`make eval`'s baseline on the same split."""
    from sklearn.metrics import accuracy_score, f1_score

    train_x, train_y = load_examples([train])
    dev_x, dev_y = load_examples([dev])
    typos_x, typos_y = load_examples([typos])
    model = baseline_model().fit(train_x, train_y)
    predicted = model.predict(dev_x)
    return {"accuracy": float(accuracy_score(dev_y, predicted)),
            "macro_f1": float(f1_score(dev_y, predicted, average="macro", zero_division=0)),
            "typos_macro_f1": float(f1_score(typos_y, model.predict(typos_x), average="macro",
                                             zero_division=0))}


def evaluate(config: Path, seed: int, train: Path, dev: Path, typos: Path) -> dict[str, Any]:
    name = f"{config.stem}-{seed}"
    out = OUT / name
    started = time.monotonic()
    subprocess.run([RASA, "train", "nlu", "--config", str(config), "--nlu", str(train),
                    "--domain", "bot/domain", "--out", str(out),
                    "--fixed-model-name", "model"], cwd=ROOT, check=True)
    seconds = time.monotonic() - started
    subprocess.run([RASA, "test", "nlu", "--model", str(out / "model.tar.gz"), "--nlu",
                    str(dev), "--out", str(out / "report"), "--successes"], cwd=ROOT, check=True)
    subprocess.run([RASA, "test", "nlu", "--model", str(out / "model.tar.gz"), "--nlu",
                    str(typos), "--out", str(out / "typos")], cwd=ROOT, check=True)
    report = json.loads((out / "report" / "intent_report.json").read_text())
    typos_report = json.loads((out / "typos" / "intent_report.json").read_text())
    responses = out / "report" / "response_selection_report.json"
    faq = json.loads(responses.read_text())["accuracy"] if responses.exists() else None
    _, entities = entity_report(out / "report")
    entity_f1 = entities.get("micro avg", {}).get("f1-score")
    return {"config": str(config), "seed": seed, "train_seconds": round(seconds),
            "accuracy": report["accuracy"], "macro_f1": report["macro avg"]["f1-score"],
            "typos_macro_f1": typos_report["macro avg"]["f1-score"], "entity_f1": entity_f1,
            "faq_accuracy": faq, "fallback": fallback_outcomes(out / "report")}


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
        train, dev, typos = split(seed, OUT / f"split-{seed}")
        base = baseline(train, dev, typos)
        rows.append({"config": "baseline (char n-gram SVM)", "seed": seed, **base})
        for config in args.configs:
            print(f"==> {config} on split {seed}", flush=True)
            rows.append(evaluate(config, seed, train, dev, typos))
    (OUT / "summary.json").write_text(json.dumps(rows, indent=2))

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    print(f"{'config':<40} {'seed':>4} {'accuracy':>9} {'macro-F1':>9} {'typos F1':>9} "
          f"{'entity-F1':>9} {'FAQ':>6} {'train s':>8}")
    for row in rows:
        print(f"{row['config']:<40} {row['seed']:>4} {row['accuracy']:>9.3f} "
              f"{row['macro_f1']:>9.3f} {cell(row['typos_macro_f1']):>9} "
              f"{cell(row.get('entity_f1')):>9} {cell(row.get('faq_accuracy')):>6} "
              f"{row.get('train_seconds', '-'):>8}")
    print("\nFallbackClassifier threshold: answered right / answered wrong / asked back")
    print(f"{'config':<40} {'seed':>4} " + " ".join(f"{t:>14}" for t in FALLBACK_THRESHOLDS))
    for row in rows:
        if "fallback" in row:
            cells = ("/".join(map(str, row["fallback"][str(t)])) for t in FALLBACK_THRESHOLDS)
            print(f"{row['config']:<40} {row['seed']:>4} " + " ".join(f"{c:>14}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
