"""Embeddings for the memory store that need no download: hashed word and character n-grams.

chromadb's default embedding downloads a model at first use, which fails offline. This one is
scikit-learn's `HashingVectorizer` (a fixed hash, no fitting, no vocabulary to store): word
uni- and bi-grams catch the topic ("EMEA quotas"), character 3-5-grams catch spelling
variants and typos ("forcast", "Acme Corp"). Both halves are L2-normalised and concatenated,
so the vector is the same for the same text in every process and on every machine.

With an OpenAI-compatible embedding model configured, `embedding_function` returns chromadb's
OpenAI embedding instead; the store keeps one collection per embedding name so vectors from
different models never mix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

WORD_FEATURES = 512
CHAR_FEATURES = 512


@register_embedding_function
class HashingEmbedding(EmbeddingFunction[Documents]):
    """Deterministic offline text embedding (1,024 dimensions, unit length, cosine space)."""

    def __init__(self, word_features: int = WORD_FEATURES, char_features: int = CHAR_FEATURES) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self.word_features = word_features
        self.char_features = char_features
        common = {"alternate_sign": False, "norm": "l2", "lowercase": True, "dtype": np.float32}
        self._words = HashingVectorizer(
            analyzer="word", ngram_range=(1, 2), n_features=word_features, token_pattern=r"(?u)\b\w+\b", **common
        )
        self._chars = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=char_features, **common)

    def __call__(self, input: Documents) -> Embeddings:
        texts = [str(t) for t in input]
        dense = np.hstack([self._words.transform(texts).toarray(), self._chars.transform(texts).toarray()])
        norms = np.linalg.norm(dense, axis=1, keepdims=True)
        dense = dense / np.where(norms == 0, 1.0, norms)
        return [row.astype(np.float32) for row in dense]

    @staticmethod
    def name() -> str:
        return "spm-hashing"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"word_features": self.word_features, "char_features": self.char_features}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashingEmbedding:
        return HashingEmbedding(int(config["word_features"]), int(config["char_features"]))

    def is_legacy(self) -> bool:
        return False


def embedding_function(model: str | None = None, api_key: str | None = None, base_url: str | None = None) -> Any:
    """The offline hashing embedding, or an OpenAI-compatible one when a model is named."""
    if not model:
        return HashingEmbedding()
    from chromadb.utils.embedding_functions import OpenAIEmbeddingFunction

    return OpenAIEmbeddingFunction(api_key=api_key or "unused", model_name=model, api_base=base_url)


def embedding_key(function: Any) -> str:
    """A collection-name-safe id of the embedding: one collection per embedding model."""
    import re

    if isinstance(function, HashingEmbedding):
        return f"hashing-{function.word_features + function.char_features}"
    model = getattr(function, "model_name", None) or getattr(function, "_model_name", None) or function.name()
    return re.sub(r"[^a-zA-Z0-9._-]", "-", f"openai-{model}")[:60]
