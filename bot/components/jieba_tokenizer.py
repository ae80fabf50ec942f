"""Rasa's JiebaTokenizer with a jieba of its own, so training and serving segment alike.

Rasa's `JiebaTokenizer` loads the user dictionary into jieba's process-wide tokenizer each time
the component is created or loaded. Every `jieba.load_userdict` adds the entries' frequencies
to jieba's total again, and a larger total favours longer words: after two loads "删了" is
one token, after one load it is "删 / 了". `rasa train` creates the component and then loads
it (two loads) while `rasa run` and `rasa test` load it once, so the model was trained on
segmentations it never sees in use (11 of 2,282 training examples, all 删了, 2026-12-02).

This component keeps a `jieba.Tokenizer` per instance and loads the dictionary into it exactly
once, from nlu_data/jieba when training and from the copy in the model when loaded. jieba's
process-wide state is left alone.

Runs in the Rasa runtime (Python 3.10). In bot/config.yml:
`- name: bot.components.jieba_tokenizer.JiebaUserDictTokenizer`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from pathlib import Path
from typing import Any

import jieba
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class JiebaUserDictTokenizer(JiebaTokenizer):
    """jieba with our user dictionary, loaded once into a jieba of this component's own."""

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str:
        # a change to this code must retrain the component rather than reuse Rasa's cache
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        dictionary_dir: Path | None = None,
    ) -> None:
        super().__init__(config, model_storage, resource)
        self._jieba = jieba.Tokenizer()
        if dictionary_dir is not None:
            for path in sorted(p for p in dictionary_dir.iterdir() if p.is_file()):
                logger.info("Loading jieba user dictionary %s", path)
                self._jieba.load_userdict(str(path))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> JiebaUserDictTokenizer:
        directory = config["dictionary_path"]
        return cls(config, model_storage, resource,
                   Path(directory) if directory is not None else None)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> JiebaUserDictTokenizer:
        if config["dictionary_path"] is None:
            return cls(config, model_storage, resource)
        with contextlib.ExitStack() as stack:
            try:
                directory = stack.enter_context(model_storage.read_from(resource))
            except ValueError:  # the model holds no such resource
                logger.warning("%s: no user dictionary in the model, so jieba's own words only",
                               execution_context.node_name)
                return cls(config, model_storage, resource)
            # a dictionary that jieba cannot read raises here rather than being skipped
            return cls(config, model_storage, resource, directory)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute)
        tokens = [Token(word, start) for word, start, _ in self._jieba.tokenize(text)]
        return self._apply_token_pattern(tokens)
