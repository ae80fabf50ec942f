"""Every entity annotation in nlu_data/ starts and ends on a token boundary of our jieba
tokenizer (bot/components/jieba_tokenizer.py) with the user dictionary. Rasa only warns about a
misaligned annotation during training ("[工伤](matter_type)认定" when jieba reads 工伤认定 as
one word) and then learns nothing from it, so this test makes the warning an error. Run in the
Rasa environment (.venv-rasa)."""

from __future__ import annotations

from tests.rasa_env import run_in_rasa

SCRIPT = """
import json, re, sys, tempfile, warnings
from pathlib import Path
sys.path.insert(0, "scripts")
from eval import load_training_data
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from bot.components.jieba_tokenizer import JiebaUserDictTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

MISALIGNED = re.compile(r"Misaligned entity annotation in message '(.*?)' with intent")

def misaligned(data):
    # Rasa's own check, which only warns during training
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        EntityExtractorMixin.check_correct_entity_annotations(data)
    return [m.group(1) for w in caught if (m := MISALIGNED.search(str(w.message)))]

data = load_training_data()
storage = LocalModelStorage(Path(tempfile.mkdtemp()))
tokenizer = JiebaUserDictTokenizer.create(
    {**JiebaUserDictTokenizer.get_default_config(), "dictionary_path": "nlu_data/jieba"},
    storage, Resource("jieba"), ExecutionContext(GraphSchema({}), node_name="jieba"))
tokenizer.process_training_data(data)
annotation = {"start": 0, "end": 2, "value": "工伤", "entity": "matter_type"}
control = TrainingData([Message.build(text="工伤认定单位不配合", intent="x",
                                      entities=[annotation])])
tokenizer.process_training_data(control)
print(json.dumps({"examples": len(data.entity_examples),
                  "misaligned": misaligned(data),
                  "control": misaligned(control)}, ensure_ascii=False))
"""


def test_every_entity_annotation_is_on_token_boundaries() -> None:
    result = run_in_rasa(SCRIPT)
    assert result["control"] == ["工伤认定单位不配合"]  # the check can see a misaligned one
    assert result["examples"] > 300
    assert result["misaligned"] == []
