"""Score the trained NLU model on the held-out files in tests/nlu (never trained on).

Prints intent macro-F1 (top classifier intent, and the share of messages that would fall back
to "您是想……吗？"), entity precision/recall/F1 on exact spans of the final entities (after
the regex, gazetteer and DIET extractors are merged), and the most frequent confusion pairs.

    python -m scripts.evaluate_nlu [--model models/] [--data tests/nlu] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from pathlib import Path

from rasa.shared.nlu.training_data.loading import load_data

ROOT = Path(__file__).resolve().parent.parent


def latest_model(directory: Path) -> Path:
    models = sorted(directory.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        sys.exit(f"no trained model in {directory}: run `make train` first")
    return models[-1]


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def intent_scores(pairs: list[tuple[str, str]]) -> dict[str, dict[str, float]]:
    labels = sorted({t for t, _ in pairs})
    scores = {}
    for label in labels:
        tp = sum(1 for t, p in pairs if t == label and p == label)
        predicted = sum(1 for _, p in pairs if p == label)
        actual = sum(1 for t, _ in pairs if t == label)
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        scores[label] = {"precision": precision, "recall": recall, "f1": f1(precision, recall), "n": actual}
    return scores


async def parse_all(model: Path, data: Path) -> list[tuple[dict, dict]]:
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)

    agent = Agent.load(str(model))
    examples = load_data(str(data)).intent_examples
    results = []
    for message in examples:
        parsed = await agent.parse_message(message.get("text"))
        results.append((message.as_dict(), parsed))
    return results


def evaluate(results: list[tuple[dict, dict]]) -> dict:
    pairs, fallbacks = [], 0
    entity_tp = entity_pred = entity_true = 0
    entity_errors: Counter = Counter()
    for expected, parsed in results:
        ranking = [r for r in parsed.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
        predicted = ranking[0]["name"] if ranking else parsed["intent"]["name"]
        pairs.append((expected["intent"], predicted))
        fallbacks += parsed["intent"]["name"] == "nlu_fallback"
        gold = {(e["entity"], e["start"], e["end"]) for e in expected.get("entities", [])}
        found = {(e["entity"], e["start"], e["end"]) for e in parsed.get("entities", [])}
        entity_tp += len(gold & found)
        entity_pred += len(found)
        entity_true += len(gold)
        for entity, start, end in gold ^ found:
            side = "missed" if (entity, start, end) in gold else "spurious"
            entity_errors[f"{side} {entity} '{expected['text'][start:end]}'"] += 1
    scores = intent_scores(pairs)
    precision = entity_tp / entity_pred if entity_pred else 0.0
    recall = entity_tp / entity_true if entity_true else 0.0
    return {
        "examples": len(pairs),
        "intent_accuracy": sum(t == p for t, p in pairs) / len(pairs),
        "intent_macro_f1": sum(s["f1"] for s in scores.values()) / len(scores),
        "fallback_share": fallbacks / len(pairs),
        "per_intent": scores,
        "entity_precision": precision,
        "entity_recall": recall,
        "entity_f1": f1(precision, recall),
        "confusions": Counter(f"{t} -> {p}" for t, p in pairs if t != p).most_common(15),
        "entity_errors": entity_errors.most_common(15),
    }


def report(result: dict) -> None:
    print(f"held-out examples: {result['examples']}")
    print(f"intent macro-F1: {result['intent_macro_f1']:.3f}  accuracy: {result['intent_accuracy']:.3f}  "
          f"(would ask '您是想……吗？': {result['fallback_share']:.1%})")
    print(f"entity precision: {result['entity_precision']:.3f}  recall: {result['entity_recall']:.3f}  "
          f"F1: {result['entity_f1']:.3f}")
    print("per intent (F1, n):")
    for name, s in sorted(result["per_intent"].items(), key=lambda kv: kv[1]["f1"]):
        print(f"  {name:<24} {s['f1']:.3f}  {s['n']}")
    print("confusion pairs (true -> predicted):")
    for pair, count in result["confusions"]:
        print(f"  {count:>3}  {pair}")
    print("entity errors:")
    for error, count in result["entity_errors"]:
        print(f"  {count:>3}  {error}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    parser.add_argument("--data", type=Path, default=ROOT / "tests" / "nlu")
    parser.add_argument("--json", type=Path)
    options = parser.parse_args(argv)
    model = options.model if options.model.is_file() else latest_model(options.model)
    result = evaluate(asyncio.run(parse_all(model, options.data)))
    report(result)
    if options.json:
        options.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), "utf-8")
    return result


if __name__ == "__main__":
    main()
