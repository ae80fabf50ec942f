"""scripts/tune.py's homophone typos (run in the Rasa environment, where the script runs)."""

from __future__ import annotations

from tests.rasa_env import run_in_rasa

SCRIPT = """
import json, random, sys
sys.path.insert(0, "scripts")
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from tune import homophone_typos

train = TrainingData([Message.build(text=t, intent="x") for t in ["要走", "摇头", "资料"]])
always = homophone_typos(train, random.Random(0), rate=1.0)
never = homophone_typos(train, random.Random(0), rate=0.0)
print(json.dumps({"always": always("要咨询12348吗"), "never": never("要咨询")},
                 ensure_ascii=False))
"""


def test_typos_swap_characters_for_homophones_of_the_training_texts() -> None:
    result = run_in_rasa(SCRIPT)
    # 要 (yao) has one homophone among the training characters: 摇; 咨 (zi) has 资; 询 (xun)
    # and 吗 have none, digits are not Chinese characters
    assert result["always"] == "摇资询12348吗"
    assert result["never"] == "要咨询"
