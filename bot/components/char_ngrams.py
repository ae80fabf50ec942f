"""Character n-grams of the whole message, across jieba's word boundaries (a Rasa component).

Rasa's `CountVectorsFeaturizer` sees the message as jieba's tokens joined by spaces, so even
its `char` analyser never sees "律援" in "法律 援助", and a segmentation that differs between
training and use ("公正处" for 公证处, "援组") changes every n-gram at the seam. Chinese has
no spaces to respect: this featurizer counts the n-grams of the raw text and gives them to
the classifiers as sentence features (DIET's and the ResponseSelector's sentence vector).
Token-level (sequence) features, which entity extraction needs, stay with the featurizers
that work on tokens.

On the development split of the training data (scripts/tune.py, 440 examples) these
features raised DIET's intent macro-F1 from 0.843 to 0.869. `unit_length` turns the counts
into 1 + log(count) and scales each message's vector to that length, as a linear classifier's
TF-IDF input would be: a short message weighs as much as a long one. Used as DIET's only
features, scaled counts did worse (0.829 against 0.874); next to the token n-grams' raw counts,
at length 5, they do better (README, "Understanding").

Runs in the Rasa runtime (Python 3.10). In bot/config.yml:
`- name: bot.components.char_ngrams.CharNgramFeaturizer`.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize

logger = logging.getLogger(__name__)

VOCABULARY_FILE = "vocabulary.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class CharNgramFeaturizer(SparseFeaturizer, GraphComponent):
    """Counts character n-grams of the raw message text (sentence features only)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **SparseFeaturizer.get_default_config(),
            "min_ngram": 1,
            "max_ngram": 4,
            # raise to drop n-grams seen in fewer training examples (names, numbers, typos)
            "min_df": 1,
            "lowercase": True,
            # 0: raw counts; > 0: 1 + log(count), the message's vector scaled to this length
            "unit_length": 0.0,
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config["unit_length"] < 0:
            raise InvalidConfigException(
                f"{cls.__name__}: unit_length must be 0 (raw counts) or positive, got "
                f"{config['unit_length']}")
        if not 1 <= config["min_ngram"] <= config["max_ngram"]:
            raise InvalidConfigException(
                f"{cls.__name__}: need 1 <= min_ngram <= max_ngram, got "
                f"{config['min_ngram']} and {config['max_ngram']}")

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str:
        # Rasa reuses a trained component from its cache while the config and the data are
        # unchanged; a change to this code (or to a subclass's) must retrain it too.
        files = sorted({Path(__file__), Path(inspect.getfile(cls))})
        return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        vocabulary: dict[str, int] | None = None,
    ) -> None:
        super().__init__(execution_context.node_name, config)
        self._model_storage = model_storage
        self._resource = resource
        self._vectorizer: CountVectorizer | None = None
        if vocabulary:
            self._vectorizer = self._new_vectorizer(vocabulary)

    def _new_vectorizer(self, vocabulary: dict[str, int] | None = None) -> CountVectorizer:
        # char_wb pads every whitespace-separated chunk: on unspaced Chinese a chunk is a
        # clause, and mixed text ("我想找 lawyer") keeps its English words whole.
        return CountVectorizer(
            analyzer="char_wb",
            ngram_range=(self._config["min_ngram"], self._config["max_ngram"]),
            min_df=self._config["min_df"],
            lowercase=self._config["lowercase"],
            vocabulary=vocabulary,
            dtype=float,
        )

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CharNgramFeaturizer:
        return cls(config, model_storage, resource, execution_context)

    def train(self, training_data: TrainingData) -> Resource:
        texts = [m.get(TEXT) for m in training_data.training_examples if m.get(TEXT)]
        if not texts:
            logger.warning("%s: no training texts, so no features", self._identifier)
            return self._resource
        self._vectorizer = self._new_vectorizer()
        self._vectorizer.fit(texts)
        self.persist()
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        if self._vectorizer is None:
            return messages
        with_text = [message for message in messages if message.get(TEXT)]
        if not with_text:
            return messages
        rows = self._scale(self._vectorizer.transform([m.get(TEXT) for m in with_text]))
        for index, message in enumerate(with_text):
            self.add_features_to_message(
                sequence=None, sentence=scipy.sparse.coo_matrix(rows[index]),
                attribute=TEXT, message=message)
        return messages

    def _scale(self, counts: scipy.sparse.spmatrix) -> scipy.sparse.csr_matrix:
        length = float(self._config["unit_length"])
        if not length:
            return counts.tocsr()
        scaled = counts.tocsr(copy=True)
        scaled.data = 1.0 + np.log(scaled.data)
        # row by row: a message with no known n-gram stays all zeros
        return scipy.sparse.csr_matrix(normalize(scaled) * length)

    def persist(self) -> None:
        if self._vectorizer is None:
            return
        vocabulary = {gram: int(index) for gram, index in self._vectorizer.vocabulary_.items()}
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(
                json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CharNgramFeaturizer:
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary = json.loads(
                    (directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            logger.warning("%s: no trained vocabulary in the model, so no features",
                           execution_context.node_name)
            vocabulary = None
        return cls(config, model_storage, resource, execution_context, vocabulary)
