"""Prompts and example utterances, kept as text and YAML files next to this module.

`planner_examples()` expands the template file into labelled utterances: each template is
filled from the slot fillers with a seeded generator (the same examples on every machine),
then varied with common openings and endings. Templates ending in `!` are held out of
training and measure accuracy on wordings the classifier never saw.
"""

from __future__ import annotations

import hashlib
import random
import re
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

VARIANTS_PER_TEMPLATE = 10
OPENINGS = ("", "", "", "can you ", "please ", "hey, ", "quick question: ", "I need to know ", "tell me ", "could you ")
ENDINGS = ("", "", "?", " please", " for me", ".", " thanks")
_SLOT = re.compile(r"\{(\w+)\}")


def _text(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


@cache
def _yaml(name: str) -> dict[str, Any]:
    return yaml.safe_load(_text(name))


def system_prompt(context: str) -> str:
    """The system prompt for a language model, with the run's context (date, calendar, scope)."""
    return _text("system.md").replace("{context}", context)


def answers() -> dict[str, Any]:
    """Answer templates of the offline planner."""
    return _yaml("answers.yaml")


@dataclass(frozen=True)
class Examples:
    train: list[tuple[str, str]]  # (utterance, intent)
    held_out: list[tuple[str, str]]
    digest: str  # changes whenever the example file changes (for caching a trained model)

    @property
    def intents(self) -> list[str]:
        return sorted({intent for _, intent in self.train})


def _fill(template: str, fillers: dict[str, list[str]], rng: random.Random) -> str:
    return _SLOT.sub(lambda m: str(rng.choice(fillers[m[1]])), template)


@cache
def planner_examples() -> Examples:
    raw = _text("planner_examples.yaml")
    spec = yaml.safe_load(raw)
    fillers: dict[str, list[str]] = {k: [str(v) for v in vals] for k, vals in spec["fillers"].items()}
    train: list[tuple[str, str]] = []
    held_out: list[tuple[str, str]] = []
    for intent, templates in spec["intents"].items():
        for template in templates:
            template = str(template)
            hold = template.endswith("!")
            template = template.rstrip("!")
            rng = random.Random(zlib.crc32(f"{intent}:{template}".encode()))
            has_slots = bool(_SLOT.search(template))
            seen: set[str] = set()
            for _ in range(VARIANTS_PER_TEMPLATE if has_slots else VARIANTS_PER_TEMPLATE // 2):
                text = rng.choice(OPENINGS) + _fill(template, fillers, rng) + rng.choice(ENDINGS)
                if text not in seen:
                    seen.add(text)
                    (held_out if hold else train).append((text, intent))
    return Examples(train, held_out, hashlib.sha256(raw.encode()).hexdigest()[:16])
