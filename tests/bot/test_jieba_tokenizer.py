"""bot/components/jieba_tokenizer.py: training and serving segment a message alike, run in the
Rasa environment (.venv-rasa, Python 3.10) the way `rasa train` and `rasa run` use it."""

from __future__ import annotations

from tests.rasa_env import run_in_rasa

SCRIPT = """
import json, logging, tempfile
from pathlib import Path
import jieba
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.components.jieba_tokenizer import JiebaUserDictTokenizer

jieba.setLogLevel(logging.WARNING)
TEXTS = ["帮我把信息删了", "我在常州高新区,一企一律师是什么"]
context = ExecutionContext(GraphSchema({}), node_name="jieba")

def words(tokenizer):
    found = []
    for text in TEXTS:
        message = Message.build(text=text)
        tokenizer.process([message])
        found.append([token.text for token in message.get("text_tokens")])
    return found

def train_then_load(cls):
    # what `rasa train` does: create and train, then load the trained component to
    # process the training data; `rasa run` loads it once more in a fresh process
    storage = LocalModelStorage(Path(tempfile.mkdtemp()))
    config = {**cls.get_default_config(), "dictionary_path": "nlu_data/jieba"}
    created = cls.create(config, storage, Resource("jieba"), context)
    created.train(TrainingData())
    trained = words(created)
    loaded = cls.load(config, storage, Resource("jieba"), context)
    return trained, words(loaded), words(cls.load(config, storage, Resource("jieba"), context))

before = jieba.lcut(TEXTS[0])
ours = train_then_load(JiebaUserDictTokenizer)
untouched = jieba.lcut(TEXTS[0]) == before
no_dictionary = words(JiebaUserDictTokenizer.create(
    JiebaUserDictTokenizer.get_default_config(), LocalModelStorage(Path(tempfile.mkdtemp())),
    Resource("plain"), context))
config = {**JiebaUserDictTokenizer.get_default_config(), "dictionary_path": "nlu_data/jieba"}
missing = words(JiebaUserDictTokenizer.load(
    config, LocalModelStorage(Path(tempfile.mkdtemp())), Resource("absent"), context))
broken = LocalModelStorage(Path(tempfile.mkdtemp()))
with broken.write_to(Resource("jieba")) as directory:
    (directory / "legal.txt").write_bytes("法律援助 3\\n".encode("gbk"))  # jieba wants UTF-8
try:
    JiebaUserDictTokenizer.load(config, broken, Resource("jieba"), context)
    broken_dictionary = "loaded"
except ValueError as exc:
    broken_dictionary = type(exc).__name__
rasa = train_then_load(JiebaTokenizer)  # last: it changes jieba's process-wide state
print(json.dumps({"ours": ours, "untouched": untouched, "no_dictionary": no_dictionary,
                  "missing": missing, "broken": broken_dictionary, "rasa": rasa},
                 ensure_ascii=False))
"""


def test_training_and_serving_segment_alike_with_the_user_dictionary() -> None:
    result = run_in_rasa(SCRIPT)
    trained, loaded, loaded_again = result["ours"]
    assert trained == loaded == loaded_again
    deleted, district = trained
    assert deleted == ["帮", "我", "把", "信息", "删", "了"]
    assert "常州高新区" in district and "一企一律师" in district  # the user dictionary's words
    assert result["no_dictionary"][1][:4] == ["我", "在", "常州", "高新区"]  # jieba's own
    assert result["untouched"]  # jieba's process-wide tokenizer is left alone
    # a model without the dictionary: jieba's own words, with a warning; a dictionary jieba
    # cannot read (GBK, not UTF-8) is an error, not skipped
    assert result["missing"] == result["no_dictionary"]
    assert result["broken"] == "ValueError"

    # the control: Rasa's JiebaTokenizer, loaded twice, segments 删了 differently
    rasa_trained, rasa_loaded, _ = result["rasa"]
    assert rasa_trained[0] != rasa_loaded[0]
