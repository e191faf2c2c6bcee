"""Score the policy knowledge base's retrieval, and choose its thresholds on development data only.

The rule (--sweep): ANSWER_THRESHOLD is the lowest at which at most 5 % of the out-of-domain development questions
would get an answer (the knowledge base is the second line: only about one such question in ten gets past the
NLU's out_of_scope to it; `make evaluate` measures the end-to-end share on the test set). Below it the closest
questions are offered down to SUGGEST_THRESHOLD, the lowest at which at most half would.

Development (for choosing): the last alternative of every entry is taken out of the index and asked as a question
(it must find its entry), and tests/nlu/dev/out_of_domain.yml is asked (nothing may be answered). Test (reported,
never tuned on): the held-out paraphrases and unanswerable questions in tests/nlu/knowledge/, and
tests/nlu/out_of_domain.yml.

    python -m scripts.evaluate_knowledge [--sweep]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import yaml

from actions.knowledge_base import ANSWER_THRESHOLD, SUGGEST_THRESHOLD, Entry, KnowledgeBase, load_entries

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT = ROOT / "tests" / "nlu" / "knowledge"
OUT_OF_DOMAIN = ROOT / "tests" / "nlu" / "out_of_domain.yml"
ANSWERED_OUT_OF_DOMAIN, SUGGESTED_OUT_OF_DOMAIN = 0.05, 0.5
OUT_OF_DOMAIN_DEV = ROOT / "tests" / "nlu" / "dev" / "out_of_domain.yml"


def out_of_domain(path: Path) -> list[str]:
    return [item["text"] for item in yaml.safe_load(path.read_text("utf-8"))["questions"]]


def held_out() -> tuple[list[tuple[str, str]], list[str]]:
    paraphrases, unanswerable = [], []
    for path in sorted(HELD_OUT.glob("*.yml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        paraphrases += [(item["id"], item["question"]) for item in data.get("paraphrases", [])]
        unanswerable += data.get("unanswerable", [])
    return paraphrases, unanswerable


def best(kb: KnowledgeBase, question: str) -> tuple[str | None, float]:
    found = kb.search(question, limit=1)
    return (found[0].entry.id, found[0].score) if found else (None, 0.0)


def development(entries: list[Entry]) -> tuple[list[tuple[str, str, float]], list[float]]:
    """(expected id, found id, score) for the left-out phrasings; scores of the out-of-domain dev questions."""
    kept, questions = [], []
    for entry in entries:
        if len(entry.alternatives) >= 2:
            questions.append((entry.id, entry.alternatives[-1]))
            entry = replace(entry, alternatives=entry.alternatives[:-1])
        kept.append(entry)
    kb = KnowledgeBase(kept)
    positives = [(expected, *best(kb, question)) for expected, question in questions]
    negatives = [best(kb, question)[1] for question in out_of_domain(OUT_OF_DOMAIN_DEV)]
    return positives, negatives


def rate(values: list[bool]) -> float:
    return sum(values) / len(values) if values else 0.0


def sweep(positives: list[tuple[str, str, float]], negatives: list[float]) -> None:
    """The trade-off per threshold, and the thresholds the rule in the module docstring picks."""
    print("  threshold  answered-correct  answered-wrong  out-of-domain answered")
    rows = []
    for step in range(-10, 31):
        threshold = step / 10
        correct = rate([found == expected and score >= threshold for expected, found, score in positives])
        wrong = rate([found != expected and score >= threshold for expected, found, score in positives])
        answered = rate([score >= threshold for score in negatives])
        rows.append((threshold, answered))
        print(f"  {threshold:6.2f}     {correct:6.3f}           {wrong:6.3f}          {answered:6.3f}")
    answer = next(t for t, answered in rows if answered <= ANSWERED_OUT_OF_DOMAIN)
    suggest = next(t for t, answered in rows if answered <= SUGGESTED_OUT_OF_DOMAIN)
    print(f"  chosen: ANSWER_THRESHOLD {answer}, SUGGEST_THRESHOLD {suggest}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="print the development trade-off per threshold")
    options = parser.parse_args(argv)
    entries = load_entries()
    print(f"knowledge base: {len(entries)} entries, {len({e.topic for e in entries})} topics")

    positives, negatives = development(entries)
    print(f"development ({len(positives)} left-out phrasings, {len(negatives)} out-of-domain questions):")
    print(f"  top-1 accuracy {rate([f == e for e, f, _ in positives]):.3f}; at ANSWER={ANSWER_THRESHOLD}: "
          f"answered correctly {rate([f == e and s >= ANSWER_THRESHOLD for e, f, s in positives]):.3f}, "
          f"out-of-domain answered {rate([s >= ANSWER_THRESHOLD for s in negatives]):.3f}")
    if options.sweep:
        sweep(positives, negatives)

    kb = KnowledgeBase(entries)
    paraphrases, unanswerable = held_out()
    found = [(expected, *best(kb, question)) for expected, question in paraphrases]
    print(f"held-out paraphrases ({len(found)} questions, {len({e for e, _ in paraphrases})} entries):")
    print(f"  top-1 accuracy {rate([f == e for e, f, _ in found]):.3f}; "
          f"answered correctly {rate([f == e and s >= ANSWER_THRESHOLD for e, f, s in found]):.3f}; "
          f"answered wrongly {rate([f != e and s >= ANSWER_THRESHOLD for e, f, s in found]):.3f}; "
          f"suggested or answered with the right entry first "
          f"{rate([f == e and s >= SUGGEST_THRESHOLD for e, f, s in found]):.3f}")
    for name, questions in (("unanswerable", unanswerable), ("out-of-domain test", out_of_domain(OUT_OF_DOMAIN))):
        scores = [best(kb, question)[1] for question in questions]
        print(f"{name} ({len(scores)} questions): honest \"I don't know\" (no answer given) "
              f"{rate([s < ANSWER_THRESHOLD for s in scores]):.3f}; no suggestion either "
              f"{rate([s < SUGGEST_THRESHOLD for s in scores]):.3f}")


if __name__ == "__main__":
    main()
