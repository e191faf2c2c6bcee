"""Check that Chinese tokenisation never cuts an annotated entity in half.

Runs jieba with the generated user dictionary (as the JiebaTokenizer does) over every
training and held-out example and reports each entity whose span does not start and end on
a token boundary. Exit status 1 when any is found. `python -m scripts.check_tokenisation`
"""

from __future__ import annotations

import sys
from pathlib import Path

import jieba
from rasa.shared.nlu.training_data.loading import load_data

ROOT = Path(__file__).resolve().parent.parent
DATA = [
    ROOT / "nlu" / "data",
    *sorted((ROOT / "tests" / "nlu").glob("heldout_*.yml")),
    ROOT / "tests" / "nlu" / "dev" / "transactions.yml",
]
USER_DICT = ROOT / "nlu" / "generated" / "jieba" / "userdict.txt"


def boundaries(text: str) -> set[int]:
    cuts = {0, len(text)}
    for _, start, end in jieba.tokenize(text):
        cuts.update((start, end))
    return cuts


def cut_entities(paths: list[Path]) -> list[str]:
    problems = []
    for path in paths:
        for message in load_data(str(path)).training_examples:
            text = message.get("text")
            cuts = boundaries(text)
            for entity in message.get("entities") or []:
                if entity["start"] not in cuts or entity["end"] not in cuts:
                    span = text[entity["start"] : entity["end"]]
                    tokens = " | ".join(t for t, _, _ in jieba.tokenize(text))
                    problems.append(f"{path.name}: {entity['entity']} '{span}' in '{text}' -> {tokens}")
    return problems


def main() -> int:
    jieba.setLogLevel(60)
    jieba.load_userdict(str(USER_DICT))
    problems = cut_entities(DATA)
    for problem in problems:
        print(problem)
    print(f"tokenisation check: {len(problems)} entity span(s) cut by jieba")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
