"""Rasa component: names written in Latin letters, found word by word.

The gazetteer extractor (nlu/components/gazetteer_extractor.py) matches on single characters, spaces left out,
which suits Chinese; in English text it can run a name into the next word ("India now" read as "Indian" + "ow",
"US and" as "USA" + "nd") and then rightly drops the match for ending inside a word, losing the name. Here every
Latin-letter alias of the gazetteers is matched on whole words (case-insensitive, any spacing, a hyphen or not), and
a name the other extractors missed is added with its canonical value. Runs after the EntityResolver: nothing is
added over an entity already found.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu.gazetteer import iter_surfaces, load_all

EXTRACTOR = "LatinNameExtractor"
LATIN = re.compile(r"[A-Za-z]")


def _pattern(surface: str) -> str:
    parts = [re.escape(part) for part in re.split(r"[\s\-]+", surface.strip()) if part]
    return r"[\s\-]*".join(parts)


def latin_names() -> tuple[re.Pattern[str], dict[str, tuple[str, str]]]:
    """One pattern of every Latin alias (longest first, so the longest name wins where several start), and what each
    alias (case-folded, without spaces or hyphens) stands for: (entity, canonical value)."""
    meaning: dict[str, tuple[str, str]] = {}
    for entity, surface, canonical in iter_surfaces(load_all()):
        if surface.isascii() and LATIN.search(surface):
            meaning.setdefault(_key(surface), (entity, canonical))
    surfaces = sorted({s for s, in_key in ((s, _key(s)) for s in _latin_surfaces()) if in_key in meaning},
                      key=len, reverse=True)
    alternatives = "|".join(_pattern(s) for s in surfaces)
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.IGNORECASE), meaning


def _latin_surfaces() -> list[str]:
    return [surface for _, surface, _ in iter_surfaces(load_all()) if surface.isascii() and LATIN.search(surface)]


def _key(text: str) -> str:
    return re.sub(r"[\s\-]+", "", text).casefold()


def find(text: str, pattern: re.Pattern[str], meaning: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    found = []
    for match in pattern.finditer(text):
        entity, value = meaning[_key(match.group())]
        found.append({"entity": entity, "value": value, "start": match.start(), "end": match.end(),
                      "confidence": 1.0, "extractor": EXTRACTOR})
    return found


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return "start" in b and a["start"] < b["end"] and b["start"] < a["end"]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LatinNameExtractor(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LatinNameExtractor:
        return cls()

    def __init__(self) -> None:
        self.pattern, self.meaning = latin_names()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not LATIN.search(text):
                continue
            entities = list(message.get(ENTITIES) or [])
            added = [e for e in find(text, self.pattern, self.meaning) if not any(_overlaps(e, k) for k in entities)]
            if added:
                message.set(ENTITIES, sorted(entities + added, key=lambda e: e.get("start", 0)), add_to_output=True)
        return messages
