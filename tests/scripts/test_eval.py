"""scripts/eval.py's paired comparison of DIET and the baseline and its choice of entity report
(run in the Rasa environment, where the script runs and scikit-learn is)."""

from __future__ import annotations

import functools
from typing import Any

from tests.rasa_env import run_in_rasa

SCRIPT = """
import json, sys, tempfile
from pathlib import Path
sys.path.insert(0, "scripts")
from sklearn.metrics import f1_score
from eval import entity_report, paired

reports = Path(tempfile.mkdtemp())
chosen = [entity_report(reports)]
for name, f1 in (("DIETClassifier", 0.9), ("RegexEntityExtractor", 0.3),
                 ("CRFEntityExtractor", 0.8)):
    (reports / f"{name}_report.json").write_text(json.dumps({"micro avg": {"f1-score": f1}}))
    chosen.append(entity_report(reports))

truth = ["a"] * 6 + ["b"] * 6 + ["c"] * 3
ours = ["a"] * 6 + ["b"] * 5 + ["a"] + ["c", "c", "c"]
theirs = ["a"] * 5 + ["c"] + ["b"] * 6 + ["c", "a", "a"]
print(json.dumps({
    "sklearn": f1_score(truth, ours, average="macro") - f1_score(truth, theirs, average="macro"),
    "odd": paired(["a", "a"], ["a", "z"], ["a", "a"], resamples=10)["macro_f1_difference"],
    "sklearn_odd": f1_score(["a", "a"], ["a", "z"], average="macro", zero_division=0) - 1.0,
    "paired": paired(truth, ours, theirs, resamples=500),
    "same": paired(truth, ours, ours, resamples=50),
    "lopsided": paired(["a"] * 12, ["a"] * 12, ["b"] * 12, resamples=50),
    "entity_reports": chosen,
}))
"""


@functools.cache
def run_script() -> dict[str, Any]:
    return run_in_rasa(SCRIPT)


def test_macro_f1_and_the_paired_comparison() -> None:
    result = run_script()
    paired = result["paired"]
    assert abs(paired["macro_f1_difference"] - result["sklearn"]) < 1e-9
    # a label only predicted counts, with F1 0, as in scikit-learn
    assert abs(result["odd"] - result["sklearn_odd"]) < 1e-9
    # ours alone gets examples 5, 13 and 14 right, theirs alone example 11
    assert (paired["ours_only_right"], paired["theirs_only_right"]) == (3, 1)
    # McNemar exact, two-sided: 2 * P(X <= 1), X ~ Bin(4, 1/2) = 2 * 5/16
    assert abs(paired["mcnemar_p"] - 0.625) < 1e-9
    low, high = paired["macro_f1_difference_ci95"]
    assert low <= paired["macro_f1_difference"] <= high
    assert paired["macro_f1_difference"] > 0
    same = result["same"]
    assert same["mcnemar_p"] == 1.0 and same["macro_f1_difference_ci95"] == [0.0, 0.0]
    # twelve to none is far beyond chance: 2 / 2**12
    assert abs(result["lopsided"]["mcnemar_p"] - 2 / 4096) < 1e-12


def test_the_entity_figure_is_the_learnt_extractors() -> None:
    none, diet, regex_too, crf = run_script()["entity_reports"]
    assert none == ["none", {}]
    assert diet == regex_too == ["DIETClassifier", {"micro avg": {"f1-score": 0.9}}]
    assert crf == ["CRFEntityExtractor", {"micro avg": {"f1-score": 0.8}}]
