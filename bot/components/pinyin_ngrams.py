"""Syllable n-grams of the message's pinyin (a Rasa component).

People type Chinese through pinyin input methods, so their typos are mostly homophones:
资询 for 咨询, 公正处 for 公证处, 法律援组 for 法律援助. A character n-gram sees a new
character; the message's pinyin (zi xun, gong zheng chu) is the same as the intended word's.
This featurizer gives the classifiers n-grams of toneless pinyin syllables (pypinyin, which
reads each character in context from its own phrase dictionary) as sentence features, scaled
like the raw-text character n-grams. Anything that is not a Chinese character (digits, Latin
words, punctuation) passes through as its own unit.

On three development splits of the training data (scripts/tune.py, intent-only) these features
raised the intent DIET's macro-F1; the figures are in bot/config.yml next to the setting.

Runs in the Rasa runtime (Python 3.10). In bot/config.yml:
`- name: bot.components.pinyin_ngrams.PinyinNgramFeaturizer`.
"""

from __future__ import annotations

from typing import Any

from pypinyin import Style, lazy_pinyin
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from sklearn.feature_extraction.text import CountVectorizer

from bot.components.char_ngrams import CharNgramFeaturizer


def pinyin(text: str) -> str:
    """The text as toneless pinyin syllables separated by spaces ("资询" -> "zi xun")."""
    return " ".join(lazy_pinyin(text, style=Style.NORMAL, errors="default"))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class PinyinNgramFeaturizer(CharNgramFeaturizer):
    """Counts n-grams of pinyin syllables of the raw message text (sentence features only)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**CharNgramFeaturizer.get_default_config(), "max_ngram": 2}

    def _new_vectorizer(self, vocabulary: dict[str, int] | None = None) -> CountVectorizer:
        lowercase = self._config["lowercase"]
        return CountVectorizer(
            analyzer="word",
            preprocessor=lambda text: pinyin(text.lower() if lowercase else text),
            token_pattern=r"\S+",
            ngram_range=(self._config["min_ngram"], self._config["max_ngram"]),
            min_df=self._config["min_df"],
            vocabulary=vocabulary,
            dtype=float,
        )
