"""The assistant's domain as the console needs it: intent and entity names (for filters and corrections)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

DOMAIN_DIR = Path(__file__).resolve().parents[1] / "domain"
# The intents the NLU predicts that no domain file lists.
PREDICTED_ONLY = ("nlu_fallback",)


@functools.cache
def _domain() -> dict[str, list[str]]:
    intents: list[str] = []
    entities: list[str] = []
    for path in sorted(DOMAIN_DIR.glob("*.yml")) if DOMAIN_DIR.is_dir() else []:
        content: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        intents += [_name(item) for item in content.get("intents") or []]
        entities += [_name(item) for item in content.get("entities") or []]
    return {"intents": list(dict.fromkeys(intents)), "entities": list(dict.fromkeys(entities))}


def _name(item: Any) -> str:
    """Domain lists hold names or {name: {options}}."""
    return next(iter(item)) if isinstance(item, dict) else str(item)


def intents() -> list[str]:
    """Every intent of the domain (in file order), nlu_fallback included."""
    return _domain()["intents"] + [i for i in PREDICTED_ONLY if i not in _domain()["intents"]]


def trainable_intents() -> list[str]:
    """Intents a training example may carry (not the fallback, which the classifier predicts by itself)."""
    return [i for i in _domain()["intents"] if i not in PREDICTED_ONLY]


def entities() -> list[str]:
    return list(_domain()["entities"])
