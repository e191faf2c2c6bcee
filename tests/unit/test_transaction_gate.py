"""The transaction gate: a form that takes personal data starts only on a confident request; otherwise the message
is marked exactly as the FallbackClassifier marks it, so the assistant asks first."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from nlu.components.transaction_gate import TransactionGate

GATE = TransactionGate({"intents": ["rent_subsidy_apply", "job_fair_register"], "threshold": 0.8,
                        "keywords": ["补贴", "健康码"]})


def classified(intent: str, confidence: float, text: str = "我想申请一下这个") -> Message:
    ranking = [{"name": intent, "confidence": confidence}, {"name": "policy_question", "confidence": 1 - confidence}]
    return Message(data={"text": text, "intent": dict(ranking[0]), "intent_ranking": ranking})


def test_an_unsure_transaction_request_is_asked_about_first() -> None:
    [message] = GATE.process([classified("rent_subsidy_apply", 0.7)])
    assert message.get("intent")["name"] == "nlu_fallback"
    ranking = [item["name"] for item in message.get("intent_ranking")]
    assert ranking == ["nlu_fallback", "rent_subsidy_apply", "policy_question"]  # the buttons offer the guess first


def test_a_clear_request_starts_the_form() -> None:
    [message] = GATE.process([classified("job_fair_register", 0.93)])
    assert message.get("intent") == {"name": "job_fair_register", "confidence": 0.93}


def test_other_intents_are_left_to_the_fallback_classifier() -> None:
    [message] = GATE.process([classified("policy_question", 0.6)])
    assert message.get("intent")["name"] == "policy_question"


def test_a_service_named_alone_is_asked_about_however_confident_the_classifier_is() -> None:
    for text in ("补贴", "补贴？", " 健康码 "):
        [message] = GATE.process([classified("rent_subsidy_apply", 0.97, text)])
        assert message.get("intent")["name"] == "nlu_fallback", text
    for text in ("申请补贴", "报名"):  # they say what is wanted
        [message] = GATE.process([classified("job_fair_register", 0.97, text)])
        assert message.get("intent")["name"] == "job_fair_register", text
