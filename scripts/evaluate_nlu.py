"""Score the trained NLU model on the held-out files in tests/nlu (never trained on).

In domain (tests/nlu/heldout_*.yml): intent macro-F1 (top classifier intent, and the share of messages that would
be asked "您是想……吗？"), entity precision/recall/F1 on exact spans of the final entities (after the regex, gazetteer
and DIET extractors are merged), and the most frequent confusion pairs.

Out of domain (tests/nlu/out_of_domain.yml: other government matters, news-style questions, chit-chat, junk): how
often a message would start a transaction (rent-subsidy application, job-fair registration), start any form that
takes personal data, or be routed to one of our services, after the fallback and the transaction gate; and how
often the policy knowledge base would answer it (it should say it does not know).

English (docs/english.md; tests/nlu/heldout_english.yml: the intents served in English, heldout_english_other.yml:
English asks for the Chinese-only services, labelled with their true intents): intent macro-F1 of the served
intents, as the classifier reads them (as for Chinese) and as the assistant answers them (after the fallback, the
gate and the English scope); and the share of the other file's messages that get the English "Chinese only" reply,
by the assistant's own decision (an English message whose final intent is out_of_scope). Only intent names and
counts are printed, never a held-out message. `--english-dev` runs the same on the development set instead
(tests/nlu/dev/english.yml: both kinds in one file), for tuning.

    python -m scripts.evaluate_nlu [--model models/] [--json out.json] [--skip-english | --english-dev]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
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


ENGLISH_HELD_OUT = ROOT / "tests" / "nlu" / "heldout_english.yml"
ENGLISH_OTHER = ROOT / "tests" / "nlu" / "heldout_english_other.yml"
ENGLISH_DEV = ROOT / "tests" / "nlu" / "dev" / "english.yml"
# The Chinese held-out files (the English ones have their own section).
HELD_OUT = sorted(p for p in (ROOT / "tests" / "nlu").glob("heldout_*.yml") if not p.name.startswith("heldout_english"))
OUT_OF_DOMAIN = ROOT / "tests" / "nlu" / "out_of_domain.yml"
# Forms that change something in a back end: "transaction starts".
TRANSACTIONS = frozenset({"rent_subsidy_apply", "job_fair_register"})
NON_SERVICE = frozenset({
    "greet", "goodbye", "thank", "affirm", "deny", "help", "bot_challenge", "request_human", "cancel",
    "out_of_scope", "inform", "show_more", "nlu_fallback", "policy_question",
})


def gated_intents() -> frozenset[str]:
    """The intents whose forms take personal data (config.yml's TransactionGate)."""
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text("utf-8"))["pipeline"]
    gate = next(step for step in pipeline if step["name"].endswith("TransactionGate"))
    return frozenset(gate["intents"])


def english_supported() -> frozenset[str]:
    """The intents served in English (config.yml's EnglishScope), out_of_scope included."""
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text("utf-8"))["pipeline"]
    scope = next(step for step in pipeline if step["name"].endswith("EnglishScope"))
    return frozenset(scope["supported"]) | {"out_of_scope"}


def load_agent(model: Path) -> Any:
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    return Agent.load(str(model))


def examples_of(paths: list[Path]) -> list[dict]:
    return [message.as_dict() for path in paths for message in load_data(str(path)).intent_examples]


def out_of_domain_questions(path: Path = OUT_OF_DOMAIN) -> list[dict]:
    return yaml.safe_load(path.read_text("utf-8"))["questions"]


async def parse_texts(agent: Any, texts: list[str]) -> list[dict]:
    return [await agent.parse_message(text) for text in texts]


def raw_top(parsed: dict) -> tuple[str, float]:
    """The classifier's own best guess, before the fallback and the gate."""
    ranking = [r for r in parsed.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
    top = ranking[0] if ranking else parsed["intent"]
    return top["name"], top.get("confidence") or 0.0


def out_of_domain_routing(questions: list[dict], parsed: list[dict]) -> dict:
    """Where each out-of-domain message ends, by category: the final intent decides what the assistant does."""
    from actions.knowledge_base import ANSWER_THRESHOLD, knowledge_base

    forms, kb = gated_intents(), knowledge_base()
    rows = []
    for question, result in zip(questions, parsed, strict=True):
        final = result["intent"]["name"]
        asks_knowledge_base = final == "policy_question" or (
            final == "nlu_fallback" and raw_top(result)[0] in ("policy_question", "out_of_scope")
        )
        matches = kb.search(question["text"], limit=1) if asks_knowledge_base else []
        rows.append({
            "category": question["category"], "final": final,
            "transaction": final in TRANSACTIONS, "form": final in forms, "service": final not in NON_SERVICE,
            "kb_answer": bool(matches) and matches[0].score >= ANSWER_THRESHOLD,
        })

    def shares(selected: list[dict]) -> dict:
        n = len(selected) or 1
        return {key: sum(row[key] for row in selected) / n for key in ("transaction", "form", "service", "kb_answer")}

    categories = sorted({row["category"] for row in rows})
    return {
        "examples": len(rows),
        "all": shares(rows),
        "by_category": {name: shares([r for r in rows if r["category"] == name]) for name in categories},
        "routed_to": Counter(row["final"] for row in rows if row["service"]).most_common(10),
    }


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


def gets_chinese_only_reply(parsed: dict) -> bool:
    """The assistant's decision (nlu/components/language_scope.py, domain utter_out_of_scope's English variation):
    an English message whose final intent is out_of_scope gets the English reply naming the Chinese-only services."""
    return parsed.get("language") == "en" and parsed["intent"]["name"] == "out_of_scope"


def english_results(served: list[tuple[dict, dict]], other: list[tuple[dict, dict]]) -> dict:
    """Served intents: macro-F1 as classified (raw top) and as answered (final intent); others: the share that gets
    the Chinese-only reply, and where the rest went. Intent names and counts only."""
    classified = [(expected["intent"], raw_top(parsed)[0]) for expected, parsed in served]
    answered = [(expected["intent"], parsed["intent"]["name"]) for expected, parsed in served]

    def macro(pairs: list[tuple[str, str]]) -> float:
        scores = intent_scores(pairs)
        return sum(s["f1"] for s in scores.values()) / len(scores) if scores else 0.0

    replied = [gets_chinese_only_reply(parsed) for _, parsed in other]
    missed = Counter(f"{expected['intent']} -> {parsed['intent']['name']} ({parsed.get('language')})"
                     for (expected, parsed), ok in zip(other, replied, strict=True) if not ok)
    return {
        "served_examples": len(served),
        "served_macro_f1_classified": macro(classified),
        "served_macro_f1_answered": macro(answered),
        "served_accuracy_classified": sum(t == p for t, p in classified) / len(classified) if classified else 0.0,
        "served_detected_english": sum(p.get("language") == "en" for _, p in served) / len(served) if served else 0.0,
        "served_per_intent": intent_scores(classified),
        "served_confusions": Counter(f"{t} -> {p}" for t, p in classified if t != p).most_common(15),
        "other_examples": len(other),
        "other_chinese_only_reply": sum(replied) / len(replied) if replied else 0.0,
        "other_missed": missed.most_common(15),
    }


def report_english(result: dict, label: str) -> None:
    print(f"English ({label}): served intents {result['served_examples']} messages, "
          f"detected as English {result['served_detected_english']:.1%}")
    print(f"  intent macro-F1 as classified: {result['served_macro_f1_classified']:.3f}  "
          f"accuracy: {result['served_accuracy_classified']:.3f}  "
          f"as answered (fallback, gate, English scope): {result['served_macro_f1_answered']:.3f}")
    for name, s in sorted(result["served_per_intent"].items(), key=lambda kv: kv[1]["f1"]):
        print(f"    {name:<24} {s['f1']:.3f}  {s['n']}")
    for pair, count in result["served_confusions"]:
        print(f"    {count:>3}  {pair}")
    print(f"  other services asked in English: {result['other_examples']} messages, "
          f"get the Chinese-only reply: {result['other_chinese_only_reply']:.1%}")
    for pair, count in result["other_missed"]:
        print(f"    {count:>3}  {pair}")


def evaluate_english(agent: Any, served: list[dict], other: list[dict], label: str) -> dict:
    parsed = asyncio.run(parse_texts(agent, [example["text"] for example in served + other]))
    result = english_results(list(zip(served, parsed[: len(served)], strict=True)),
                             list(zip(other, parsed[len(served) :], strict=True)))
    report_english(result, label)
    return result


def english_development_set() -> tuple[list[dict], list[dict]]:
    """The development set holds both kinds in one file: the label says which."""
    supported = english_supported()
    examples = examples_of([ENGLISH_DEV])
    return [e for e in examples if e["intent"] in supported], [e for e in examples if e["intent"] not in supported]


def report_out_of_domain(result: dict) -> None:
    print(f"out-of-domain messages: {result['examples']}")
    header = "transaction starts  any form starts  routed to a service  answered from the knowledge base"
    print(f"  {'':<18}{header}")
    for name, row in [("all", result["all"]), *result["by_category"].items()]:
        print(f"  {name:<18}{row['transaction']:>8.1%}{row['form']:>17.1%}{row['service']:>19.1%}"
              f"{row['kb_answer']:>22.1%}")
    print("  routed to (service intents): " + ", ".join(f"{name} {count}" for name, count in result["routed_to"]))


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
    parser.add_argument("--json", type=Path)
    english = parser.add_mutually_exclusive_group()
    english.add_argument("--skip-english", action="store_true", help="the Chinese sections only")
    english.add_argument("--english-dev", action="store_true", help="only English, on the development set")
    options = parser.parse_args(argv)
    model = options.model if options.model.is_file() else latest_model(options.model)
    agent = load_agent(model)
    if options.english_dev:
        return {"english_dev": evaluate_english(agent, *english_development_set(), "development set")}
    examples = examples_of(HELD_OUT)
    parsed = asyncio.run(parse_texts(agent, [example["text"] for example in examples]))
    result = evaluate(list(zip(examples, parsed, strict=True)))
    report(result)
    questions = out_of_domain_questions()
    parsed = asyncio.run(parse_texts(agent, [question["text"] for question in questions]))
    result["out_of_domain"] = out_of_domain_routing(questions, parsed)
    report_out_of_domain(result["out_of_domain"])
    if not options.skip_english:
        if ENGLISH_HELD_OUT.exists() and ENGLISH_OTHER.exists():
            served, other = examples_of([ENGLISH_HELD_OUT]), examples_of([ENGLISH_OTHER])
            result["english"] = evaluate_english(agent, served, other, "held-out")
        else:
            print("English: no held-out files (tests/nlu/heldout_english.yml, heldout_english_other.yml)")
    if options.json:
        options.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), "utf-8")
    return result


if __name__ == "__main__":
    main()
