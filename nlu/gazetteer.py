"""Gazetteers: the single source of truth for lookup values, synonyms and dictionaries.

Each `nlu/gazetteers/<entity>.yml` lists canonical values with their aliases. From them
`nlu.build` generates the lookup tables and synonyms for Rasa, the jieba user dictionary
and the spaCy EntityRuler pipeline, so the same names are known everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

GAZETTEER_DIR = Path(__file__).parent / "gazetteers"


@dataclass(frozen=True)
class Entry:
    entity: str
    name: str
    aliases: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def surfaces(self) -> tuple[str, ...]:
        """Every way of writing this value, canonical name first."""
        return (self.name, *[a for a in self.aliases if a != self.name])


def load_gazetteer(path: Path) -> list[Entry]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entity = data["entity"]
    entries = []
    for value in data["values"]:
        extra = {k: v for k, v in value.items() if k not in ("name", "aliases")}
        aliases = tuple(str(a).strip() for a in value.get("aliases") or [] if str(a).strip())
        entries.append(Entry(entity, str(value["name"]).strip(), aliases, extra))
    return entries


def load_all(directory: Path = GAZETTEER_DIR) -> dict[str, list[Entry]]:
    """All gazetteers keyed by entity name."""
    result: dict[str, list[Entry]] = {}
    for path in sorted(directory.glob("*.yml")):
        entries = load_gazetteer(path)
        if entries:
            result.setdefault(entries[0].entity, []).extend(entries)
    return result


def iter_surfaces(gazetteers: dict[str, list[Entry]]) -> Iterator[tuple[str, str, str]]:
    """Yield (entity, surface, canonical) for every name and alias."""
    for entity, entries in gazetteers.items():
        for entry in entries:
            for surface in entry.surfaces:
                yield entity, surface, entry.name
