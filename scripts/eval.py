"""`make eval`: NLU on the held-out set, the conversation tests, and a baseline, into reports/.

Runs in the Rasa environment (.venv-rasa). Prints the headline figures and writes
reports/eval.json, reports/eval.md and reports/intent_f1.png (DIET vs the baseline per intent);
Rasa's own reports (confusion matrix, per-intent and entity reports) land in reports/nlu and
reports/core.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"
MODEL = ROOT / "models" / "current.tar.gz"
RASA = str(Path(sys.executable).parent / "rasa")
# The Rasa CLI would send usage data to segment.io and crash reports to sentry.io: never,
# also when this script (or scripts/tune.py) runs outside make.
os.environ["RASA_TELEMETRY_ENABLED"] = "false"


def run(step: str, args: list[str]) -> float:
    print(f"==> {step}: {' '.join(args)}", flush=True)
    started = time.monotonic()
    subprocess.run(args, cwd=ROOT, check=True)
    return time.monotonic() - started


def training_files() -> list[Path]:
    return sorted(p for p in (ROOT / "nlu_data").rglob("*.yml")
                  if "test" not in p.relative_to(ROOT / "nlu_data").parts)


def load_training_data() -> Any:
    """Rasa's TrainingData of every file in training_files()."""
    from rasa.shared.nlu.training_data.loading import load_data

    with tempfile.TemporaryDirectory() as tmp:
        for path in training_files():  # load_data takes one file or one directory
            (Path(tmp) / path.name).symlink_to(path)
        return load_data(tmp)


def load_examples(paths: list[Path]) -> tuple[list[str], list[str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    texts, intents = [], []
    for path in paths:
        data = load_data(str(path))
        for message in data.intent_examples:
            texts.append(message.get("text"))
            intents.append(message.get("intent"))
    return texts, intents


def baseline_model() -> Any:
    """The yardstick: a plain character n-gram TF-IDF + linear SVM (scikit-learn)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
        LinearSVC(C=1.0))


def baseline(test_paths: list[Path]) -> dict[str, Any]:
    """The baseline trained on the training data and measured on the held-out set."""
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    train_x, train_y = load_examples(training_files())
    test_x, test_y = load_examples(test_paths)
    model = baseline_model()
    model.fit(train_x, train_y)
    predicted = model.predict(test_x)
    report = classification_report(test_y, predicted, output_dict=True, zero_division=0)
    return {"texts": test_x, "truth": test_y, "predicted": [str(p) for p in predicted],
            "accuracy": accuracy_score(test_y, predicted),
            "macro_f1": f1_score(test_y, predicted, average="macro", zero_division=0),
            "per_intent_f1": {k: v["f1-score"] for k, v in report.items()
                              if isinstance(v, dict) and k not in ("macro avg", "weighted avg")}}


def paired(truth: list[str], ours: list[str], theirs: list[str], resamples: int = 2000,
           seed: int = 0) -> dict[str, Any]:
    """Whether two classifiers' results on the same examples differ by more than chance.

    McNemar's exact test on the examples one gets right and the other wrong (two-sided), and
    a 95 % bootstrap interval (resampling the examples) for the difference in macro-F1,
    ours minus theirs. A held-out set of a few hundred examples cannot tell apart two models
    a message or two apart; this says so in numbers."""
    from sklearn.metrics import f1_score

    def macro_f1(truth: list[str], predicted: list[str]) -> float:
        return float(f1_score(truth, predicted, average="macro", zero_division=0))

    ours_only = sum(o == t != p for t, o, p in zip(truth, ours, theirs, strict=True))
    theirs_only = sum(p == t != o for t, o, p in zip(truth, ours, theirs, strict=True))
    discordant = ours_only + theirs_only
    tail = sum(math.comb(discordant, k) for k in range(min(ours_only, theirs_only) + 1))
    p_value = min(1.0, 2 * tail / 2 ** discordant) if discordant else 1.0
    rng = random.Random(seed)
    n = len(truth)
    differences = []
    for _ in range(resamples):
        rows = [rng.randrange(n) for _ in range(n)]
        sample = [truth[i] for i in rows]
        differences.append(macro_f1(sample, [ours[i] for i in rows])
                           - macro_f1(sample, [theirs[i] for i in rows]))
    differences.sort()
    return {"ours_only_right": ours_only, "theirs_only_right": theirs_only,
            "mcnemar_p": p_value,
            "macro_f1_difference": macro_f1(truth, ours) - macro_f1(truth, theirs),
            "macro_f1_difference_ci95": [differences[int(0.025 * resamples)],
                                         differences[int(0.975 * resamples) - 1]]}


def diet_predictions(report: Path) -> dict[str, str]:
    """The intent Rasa predicted for each held-out text (`rasa test nlu --successes`)."""
    rows = [row for name in ("intent_successes.json", "intent_errors.json")
            if (report / name).exists() for row in json.loads((report / name).read_text())]
    return {row["text"]: row["intent_prediction"]["name"] for row in rows}


def entity_report(report: Path) -> tuple[str, dict[str, Any]]:
    """The entity report of the pipeline's learnt extractor (`rasa test nlu` writes one per
    extractor; the RegexEntityExtractor's covers phone numbers and references only) and its
    name: the CRF, or the DIET of earlier pipelines."""
    for name in ("CRFEntityExtractor", "DIETClassifier"):
        path = report / f"{name}_report.json"
        if path.exists():
            found: dict[str, Any] = json.loads(path.read_text())
            return name, found
    return "none", {}


def figure(value: float | None) -> str:
    """Three decimals, or "n/a" when the report was missing."""
    return "n/a" if value is None else f"{value:.3f}"


def count_stories(path: Path) -> int:
    import yaml

    total = 0
    for file in ([path] if path.is_file() else sorted(path.glob("*.yml"))):
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        total += len(data.get("stories") or [])
    return total


def chart(diet: dict[str, float], base: dict[str, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    intents = sorted(diet)
    width = 0.4
    fig, ax = plt.subplots(figsize=(max(8, len(intents) * 0.6), 5))
    xs = range(len(intents))
    ax.bar([x - width / 2 for x in xs], [diet[i] for i in intents], width, label="DIET (Rasa)")
    ax.bar([x + width / 2 for x in xs], [base.get(i, 0.0) for i in intents], width,
           label="char n-gram SVM baseline")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(intents, rotation=60, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("F1 on nlu_data/test")
    ax.set_title("Intent F1, held-out set")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> int:
    if not MODEL.is_file():
        print("no model: run `make train` first", file=sys.stderr)
        return 1
    REPORTS.mkdir(exist_ok=True)
    test_paths = sorted((ROOT / "nlu_data" / "test").glob("*.yml"))
    run("NLU on the held-out set", [RASA, "test", "nlu", "--nlu", "nlu_data/test", "--model",
                                    str(MODEL), "--out", "reports/nlu", "--successes"])
    subprocess.run([RASA, "test", "core", "--stories", "bot/tests", "--model", str(MODEL),
                    "--out", "reports/core"], cwd=ROOT, check=False)
    print("==> baseline: char n-gram TF-IDF + linear SVM", flush=True)
    base = baseline(test_paths)

    intent = json.loads((REPORTS / "nlu" / "intent_report.json").read_text())
    per_intent = {k: v for k, v in intent.items() if isinstance(v, dict)
                  and k not in ("macro avg", "weighted avg", "micro avg")}
    extractor, entity = entity_report(REPORTS / "nlu")
    entity_f1 = (entity.get("micro avg") or entity.get("weighted avg") or {}).get("f1-score")
    selector_path = REPORTS / "nlu" / "response_selection_report.json"
    selector = json.loads(selector_path.read_text()) if selector_path.exists() else {}
    failed_path = REPORTS / "core" / "failed_test_stories.yml"
    total = count_stories(ROOT / "bot" / "tests")
    failed = count_stories(failed_path) if failed_path.exists() else 0
    train_seconds_path = ROOT / "models" / "train-seconds.txt"
    diet = diet_predictions(REPORTS / "nlu")
    versus = paired(base["truth"], [diet[text] for text in base["texts"]], base["predicted"])
    results = {
        "intent_accuracy": intent.get("accuracy"),
        "intent_macro_f1": intent["macro avg"]["f1-score"],
        "entity_micro_f1": entity_f1,
        "faq_response_accuracy": selector.get("accuracy"),
        "conversation_tests": {"total": total, "passed": total - failed,
                               "pass_rate": (total - failed) / total if total else None},
        "baseline": {"intent_accuracy": base["accuracy"], "intent_macro_f1": base["macro_f1"]},
        "diet_vs_baseline": versus,
        "training_seconds": (float(train_seconds_path.read_text())
                             if train_seconds_path.exists() else None),
        "per_intent": {k: {"precision": v["precision"], "recall": v["recall"],
                           "f1": v["f1-score"], "support": v["support"]}
                       for k, v in sorted(per_intent.items())},
        "test_examples": sum(v["support"] for v in per_intent.values()),
    }
    (REPORTS / "eval.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    chart({k: v["f1-score"] for k, v in per_intent.items()}, base["per_intent_f1"],
          REPORTS / "intent_f1.png")
    headline = [
        f"- test examples: {results['test_examples']}",
        f"- intent accuracy: {results['intent_accuracy']:.3f}, macro-F1: "
        f"{results['intent_macro_f1']:.3f}",
        f"- baseline (char n-gram SVM): accuracy {base['accuracy']:.3f}, macro-F1 "
        f"{base['macro_f1']:.3f}",
        f"- DIET vs baseline: macro-F1 {versus['macro_f1_difference']:+.3f} (95 % bootstrap "
        f"interval {versus['macro_f1_difference_ci95'][0]:+.3f} to "
        f"{versus['macro_f1_difference_ci95'][1]:+.3f}); right only by DIET "
        f"{versus['ours_only_right']}, only by the baseline {versus['theirs_only_right']} "
        f"(McNemar p = {versus['mcnemar_p']:.2f})",
        f"- entity micro-F1 ({extractor}): {figure(entity_f1)}",
        f"- FAQ response selection accuracy: {figure(results['faq_response_accuracy'])}",
        f"- conversation tests: {total - failed}/{total} passed",
        f"- training time: {results['training_seconds']} s",
    ]
    lines = [
        "# NLU evaluation (held-out nlu_data/test)",
        "",
        *headline,
        "",
        "| intent | precision | recall | F1 | support | baseline F1 |",
        "|---|---|---|---|---|---|",
    ]
    for name, v in results["per_intent"].items():
        lines.append(f"| {name} | {v['precision']:.2f} | {v['recall']:.2f} | {v['f1']:.2f} | "
                     f"{v['support']} | {base['per_intent_f1'].get(name, 0.0):.2f} |")
    (REPORTS / "eval.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(headline))
    print(f"reports: {REPORTS}/eval.md, eval.json, intent_f1.png, nlu/intent_confusion_matrix.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
