"""Intent classification: TF-IDF over word and character n-grams + logistic regression,
trained on the example utterances in `prompts/` (trained once per process, about a second).

A request may hold several asks ("forecast Q3 and tell me how many reps to hire"): it is split
at sentence ends and at conjunctions that start a new request, and the split is kept only when
every part is confidently a different planning intent.
"""

from __future__ import annotations

import os
import pickle
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prompts import planner_examples
from warehouse.files import private_dir

NON_TOOL = ("followup", "help", "out_of_scope")
SPLIT_CONFIDENCE = 0.55
_STARTS = (
    r"tell|show|give|what|what's|how|who|which|forecast|rebalance|check|compare|simulate|allocate|run|list|"
    r"plan|can|do|are|is|also|then|find|apply|publish|estimate|project|predict|where|when|who|why"
)
_SPLIT = re.compile(
    rf"\s*(?:[;?!]\s+|\.\s+(?=[A-Za-z])|,?\s+(?:and then|and also|then|also|plus)\s+|,\s+and\s+|,?\s+and\s+(?=(?:{_STARTS})\b))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Intent:
    name: str
    confidence: float
    text: str  # the part of the request it was read from


class IntentModel:
    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.classes: list[str] = list(pipeline.classes_)

    def scores(self, texts: list[str]) -> list[list[tuple[str, float]]]:
        probs = self.pipeline.predict_proba(texts)
        return [sorted(zip(self.classes, map(float, row), strict=True), key=lambda kv: -kv[1]) for row in probs]

    def classify(self, text: str) -> list[Intent]:
        """The request's intents in order (one, or several for a multi-part request)."""
        whole = self.scores([text])[0][0]
        parts: list[str] = []
        for part in (p.strip(" ,.") for p in _SPLIT.split(text) if p and p.strip(" ,.")):
            belongs = (
                r"(?:and\s+)?(?:(?:save|call|name)\s+(?:it|this|that|the plan)\b"
                r"|show (?:me )?(?:the )?(?:attainment|results|impact|each rep|every rep|per[- ]rep|reps|rep by rep)\b"
                r"|(?:i'?d like|with|and) the baseline\b|(?:give|show) me (?:the )?(?:table|breakdown|detail)\b"
                r"|how many (?:reps|people|aes|sellers) (?:make|hit|reach|get there|get to)\b)"
            )
            if parts and re.match(belongs, part, re.I):
                parts[-1] += ", " + part  # "..., save it as X" belongs to the ask before it
            else:
                parts.append(part)
        if len(parts) > 1:
            tops = [s[0] for s in self.scores(parts)]
            names = [name for name, _ in tops]
            confident = all(conf >= SPLIT_CONFIDENCE for _, conf in tops)
            # Two lookups in one breath ("win rate last quarter, and coverage this quarter") are two calls.
            repeats_ok = all(n == "metrics" for n in names if names.count(n) > 1)
            distinct = (len(set(names)) == len(names) or repeats_ok) and not set(names) & set(NON_TOOL)
            if confident and distinct:
                return [Intent(n, c, p) for (n, c), p in zip(tops, parts, strict=True)]
        return [Intent(whole[0], whole[1], text)]


def train(examples: list[tuple[str, str]]) -> IntentModel:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    texts, labels = zip(*examples, strict=True)
    pipeline = make_pipeline(
        make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        ),
        LogisticRegression(C=3.0, max_iter=3000, class_weight="balanced"),
    )
    pipeline.fit(list(texts), list(labels))
    return IntentModel(pipeline)


_lock = threading.Lock()
_model: IntentModel | None = None
MODEL_VERSION = 1  # bump when train() changes, so no process loads a model trained the old way


def intent_model(cache_dir: Path | None = None) -> IntentModel:
    """The classifier trained on the shipped examples: once per process (thread-safe), and once per
    example file when `cache_dir` is given (a fresh process loads it instead of training)."""
    global _model
    with _lock:
        if _model is None:
            _model = _load_or_train(cache_dir)
        return _model


def _cache_file(cache_dir: Path) -> Path:
    import sklearn

    examples = planner_examples()
    return cache_dir / f"planner-{examples.digest}-sklearn{sklearn.__version__}-v{MODEL_VERSION}.pkl"


def _load_or_train(cache_dir: Path | None) -> IntentModel:
    """The cached model when its key (examples, library version, training code) matches, else a
    freshly trained one, stored for the next process. A cache that cannot be read or written costs a
    second of training, never an error."""
    if cache_dir is None:
        return train(planner_examples().train)
    path = _cache_file(cache_dir)
    try:
        with path.open("rb") as f:
            return IntentModel(pickle.load(f))  # our own file, keyed by what trained it
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError):
        pass
    model = train(planner_examples().train)
    try:
        private_dir(path.parent)  # SPM_CACHE_DIR: the account's own (0700), like the rest of spm's data
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump(model.pipeline, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # atomic: another process sees the old file or the whole new one
    except OSError:
        pass
    return model


def reset() -> None:
    """Forget the process's model (tests that change the examples or the cache)."""
    global _model
    with _lock:
        _model = None
