"""bot/components/pinyin_ngrams.py: the pinyin syllable n-gram featurizer, run in the Rasa
environment (.venv-rasa, Python 3.10): trained, persisted, loaded and used as Rasa does."""

from __future__ import annotations

import functools
import math
from typing import Any

from tests.rasa_env import run_in_rasa

SCRIPT = """
import json, tempfile
from pathlib import Path
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.components.char_ngrams import CharNgramFeaturizer
from bot.components.pinyin_ngrams import PinyinNgramFeaturizer, pinyin

def features(message):
    found = [f for f in message.features if f.origin == "pinyin"]
    return [(f.type, f.attribute, f.features.toarray().tolist()) for f in found]

storage = LocalModelStorage(Path(tempfile.mkdtemp()))
context = ExecutionContext(GraphSchema({}), node_name="pinyin")
resource = Resource("pinyin")
config = PinyinNgramFeaturizer.get_default_config()
texts = ["我想咨询法律援助", "公证处在哪里", "找个Lawyer咨询一下"]
training = TrainingData([Message.build(text=t, intent="x") for t in texts])
featurizer = PinyinNgramFeaturizer.create(config, storage, resource, context)
featurizer.train(training)
featurizer.process_training_data(training)
loaded = PinyinNgramFeaturizer.load(config, storage, resource, context)

typo, fresh = Message.build(text="资询公正处"), Message.build(text="资询公正处")
featurizer.process([typo])
loaded.process([fresh])
scaled = PinyinNgramFeaturizer.create({**config, "unit_length": 5.0}, storage,
                                      Resource("scaled"), context)
scaled.train(training)
scaled_typo = Message.build(text="资询公正处")
scaled.process([scaled_typo])
print(json.dumps({
    "pinyin": pinyin("资询公正处, 12348"),
    "vocabulary": sorted(featurizer._vectorizer.vocabulary_),
    "typo": features(typo), "loaded": features(fresh), "scaled": features(scaled_typo),
    "fingerprints": [CharNgramFeaturizer.fingerprint_addon({}),
                     PinyinNgramFeaturizer.fingerprint_addon(config)],
}, ensure_ascii=False))
"""


@functools.cache
def run_script() -> dict[str, Any]:
    result: dict[str, Any] = run_in_rasa(SCRIPT)
    return result


def test_pinyin_is_toneless_syllables_with_other_characters_kept() -> None:
    assert run_script()["pinyin"] == "zi xun gong zheng chu , 12348"


def test_a_homophone_typo_has_the_features_of_the_word_it_stands_for() -> None:
    result = run_script()
    vocabulary = result["vocabulary"]
    assert {"zi xun", "gong zheng", "zheng chu", "chu zai"} <= set(vocabulary)
    assert "gong zheng chu" not in vocabulary  # syllable pairs at most, by default
    assert "lawyer" in vocabulary  # a Latin word, lowercased, is one unit
    [(kind, attribute, [row])] = result["typo"]
    assert (kind, attribute) == ("sentence", "text") and len(row) == len(vocabulary)
    counts = {gram: row[i] for i, gram in enumerate(vocabulary) if row[i]}
    # 资询公正处 was never seen, but 咨询 and 公证处 were: same sounds, same n-grams
    assert counts == {"zi": 1, "xun": 1, "zi xun": 1, "gong": 1, "zheng": 1, "chu": 1,
                      "gong zheng": 1, "zheng chu": 1}
    assert result["loaded"] == result["typo"]


def test_unit_length_and_fingerprint_come_from_the_character_featurizer() -> None:
    result = run_script()
    [(_, _, [row])] = result["scaled"]
    assert math.isclose(math.sqrt(sum(w * w for w in row)), 5.0, rel_tol=1e-6)
    char, pinyin = result["fingerprints"]
    assert char != pinyin  # the subclass's own file is part of its fingerprint
