"""Choose the NLU confidence thresholds of config.yml on development data only (tests/nlu/dev/, never trained on and
never the held-out sets).

- TransactionGate `threshold`: a form that takes personal data or changes something starts directly only at or
  above it. Chosen as the lowest value at which no out-of-domain development message would start a form (or, when
  none reaches 0, at most 0.5 %, the issue's bound), so that clear requests, often long and wrapped in greetings
  and context, still start at once as often as possible; below it the citizen confirms with one click.
- FallbackClassifier `threshold`: below it the assistant asks or falls back instead of acting. Chosen as the lowest
  value at which at most 5 % of out-of-domain development messages reach one of our services (half the 10 % budget
  of the held-out measure, as a margin for messages unlike the development set).

    python -m scripts.choose_thresholds [--model models/]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from scripts.evaluate_nlu import (
    NON_SERVICE,
    ROOT,
    examples_of,
    gated_intents,
    latest_model,
    load_agent,
    out_of_domain_questions,
    parse_texts,
    raw_top,
)

DEV = ROOT / "tests" / "nlu" / "dev"
STEPS = [round(0.30 + 0.025 * step, 3) for step in range(28)]  # 0.30 … 0.975


def share(values: list[bool]) -> float:
    return sum(values) / len(values) if values else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    options = parser.parse_args(argv)
    agent = load_agent(options.model if options.model.is_file() else latest_model(options.model))
    forms = gated_intents()

    examples = examples_of([DEV / "transactions.yml"])
    dev = [(e["intent"], *raw_top(p)) for e, p in zip(
        examples, asyncio.run(parse_texts(agent, [e["text"] for e in examples])), strict=True)]
    texts = [q["text"] for q in out_of_domain_questions(DEV / "out_of_domain.yml")]
    ood = [raw_top(p) for p in asyncio.run(parse_texts(agent, texts))]
    requests = [(i, p, c) for i, p, c in dev if i in forms]
    questions = [(i, p, c) for i, p, c in dev if i not in forms]
    print(f"development: {len(requests)} clear requests for forms, {len(questions)} in-domain questions, "
          f"{len(ood)} out-of-domain messages")

    print("\nTransactionGate threshold: requests started at once / out-of-domain messages that would start a form")
    gate_rows = []
    for threshold in STEPS:
        started = share([p == i and c >= threshold for i, p, c in requests])
        leaked = share([p in forms and c >= threshold for p, c in ood])
        gate_rows.append((threshold, started, leaked))
        print(f"  {threshold:.3f}  {started:6.1%}  {leaked:6.2%}")
    gate = next((t for t, _, leaked in gate_rows if leaked == 0), None)
    gate = gate or next(t for t, _, leaked in gate_rows if leaked <= 0.005)

    print("\nFallbackClassifier threshold: in-domain questions answered at once / out-of-domain reaching a service")
    fallback_rows = []
    for threshold in STEPS:
        answered = share([p == i and c >= threshold for i, p, c in questions])
        reached = share([
            p not in NON_SERVICE and c >= threshold and (p not in forms or c >= gate) for p, c in ood
        ])
        fallback_rows.append((threshold, answered, reached))
        print(f"  {threshold:.3f}  {answered:6.1%}  {reached:6.1%}")
    fallback = next(t for t, _, reached in fallback_rows if reached <= 0.05)
    print(f"\nchosen: FallbackClassifier threshold {fallback}, TransactionGate threshold {max(gate, fallback)}")


if __name__ == "__main__":
    main()
