"""bot/components/char_ngrams.py: the character n-gram featurizer, run in the Rasa environment
(.venv-rasa, Python 3.10) where Rasa lives: trained, persisted, loaded and used as Rasa does."""

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
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.components.char_ngrams import CharNgramFeaturizer

def features(message):
    found = [f for f in message.features if f.origin == "ngrams"]
    return [(f.type, f.attribute, f.features.toarray().tolist()) for f in found]

storage = LocalModelStorage(Path(tempfile.mkdtemp()))
context = ExecutionContext(GraphSchema({}), node_name="ngrams")
resource = Resource("ngrams")
config = {**CharNgramFeaturizer.get_default_config(), "max_ngram": 2}
tokenizer = JiebaTokenizer.create(JiebaTokenizer.get_default_config(), storage, resource, context)

texts = ["我要申请法律援助", "预约法律咨询", "Hi 你好"]
training = TrainingData([Message.build(text=t, intent="x") for t in texts]
                        + [Message(data={"intent": "greet"})])  # a story's intent-only turn
tokenizer.process_training_data(training)
featurizer = CharNgramFeaturizer.create(config, storage, resource, context)
featurizer.train(training)
featurizer.process_training_data(training)
vocabulary = sorted(featurizer._vectorizer.vocabulary_)
loaded = CharNgramFeaturizer.load(config, storage, resource, context)

probe = Message.build(text="法律援助申请")
tokenizer.process([probe])
fresh = Message.build(text="法律援助申请")
tokenizer.process([fresh])
featurizer.process([probe])
loaded.process([fresh])
pruned = CharNgramFeaturizer.create({**config, "min_df": 2}, storage, Resource("pruned"),
                                    context)
pruned.train(training)
untrained = CharNgramFeaturizer.create(config, storage, Resource("other"), context)
empty = Message.build(text="你好")
untrained.process([empty])
scaled = CharNgramFeaturizer.create({**config, "unit_length": 5.0}, storage,
                                    Resource("scaled"), context)
scaled.train(training)
repeated = Message.build(text="法律法律援助")
tokenizer.process([repeated])
scaled.process([repeated])
batch = [Message.build(text="预约法律咨询"), Message.build(text="法律援助申请")]
tokenizer.process(batch)
featurizer.process(batch)  # several messages in one call: each gets its own row
bad_config = []
for wrong in ({"min_ngram": 3}, {"unit_length": -1.0}):
    try:
        CharNgramFeaturizer.create({**config, **wrong}, storage, resource, context)
        bad_config.append("accepted")
    except Exception as exc:
        bad_config.append(type(exc).__name__)
print(json.dumps({
    "vocabulary": vocabulary, "pruned": sorted(pruned._vectorizer.vocabulary_),
    "trained": features(training.training_examples[0]),
    "intent_only": features(training.training_examples[3]),
    "probe": features(probe), "loaded": features(fresh), "untrained": features(empty),
    "batch": [features(m) for m in batch],
    "bad_config": bad_config, "scaled": features(repeated),
    "scaled_vocabulary": sorted(scaled._vectorizer.vocabulary_),
}, ensure_ascii=False))
"""


@functools.cache
def run_script() -> dict[str, Any]:
    result: dict[str, Any] = run_in_rasa(SCRIPT)
    return result


def test_the_featurizer_counts_ngrams_of_the_raw_text_across_jieba_tokens() -> None:
    result = run_script()
    vocabulary = result["vocabulary"]
    assert "律援" in vocabulary  # across jieba's 法律 | 援助
    assert "hi" in vocabulary and " 你" in vocabulary  # lowercased; words keep their edges
    assert "律 " not in vocabulary  # no spaces put between Chinese tokens
    # min_df 2 keeps only n-grams of at least two training messages
    assert "法律" in result["pruned"] and "援助" not in result["pruned"]
    assert set(result["pruned"]) < set(vocabulary)

    # one sentence vector (no sequence features), with the message's own counts
    [(kind, attribute, [row])] = result["probe"]
    assert (kind, attribute) == ("sentence", "text") and len(row) == len(vocabulary)
    counts = {gram: row[i] for i, gram in enumerate(vocabulary) if row[i]}
    assert counts["律援"] == 1 and counts["法"] == 1 and counts["申请"] == 1
    assert "预约" not in counts
    assert len(result["trained"]) == 1 and result["intent_only"] == []

    # a batch: every message its own features, the same as one at a time
    first, second = result["batch"]
    assert second == result["probe"] and first != second
    [(_, _, [first_row])] = first
    assert first_row[vocabulary.index("预约")] == 1 and first_row[vocabulary.index("援")] == 0

    # persisted and loaded: the same features
    assert result["loaded"] == result["probe"]
    # no trained vocabulary: no features rather than an error
    assert result["untrained"] == []
    assert result["bad_config"] == ["InvalidConfigException", "InvalidConfigException"]


def test_unit_length_scales_log_counts_to_a_fixed_length() -> None:
    result = run_script()
    [(kind, _, [row])] = result["scaled"]
    assert kind == "sentence"
    weights = {gram: row[i] for i, gram in enumerate(result["scaled_vocabulary"]) if row[i]}
    # 法律法律援助: 法律 twice, 援助 once; 1 + log(count), then the vector has length 5
    assert math.isclose(math.sqrt(sum(w * w for w in weights.values())), 5.0, rel_tol=1e-6)
    assert math.isclose(weights["法律"] / weights["援助"], 1 + math.log(2), rel_tol=1e-6)
    assert math.isclose(weights["律援"], weights["援助"], rel_tol=1e-6)
