"""A form fed one message at a time, its slots carried from turn to turn like the Rasa server does."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action

from tests.unit.conftest import Outcome, entity, latest_code, tracker
from tests.unit.rendering import run

IDENTITY_SLOTS = ("person_name", "id_number", "phone", "sms_code", "verification_id", "identity_token",
                  "identity_level")
_verified: dict[tuple[str, str], dict[str, Any]] = {}  # (sandbox, sender) -> identity slots


class FormChat:
    def __init__(self, domain: dict, sender: str, form: str, validator: Action) -> None:
        self.domain, self.sender, self.form, self.validator = domain, sender, form, validator
        self.slots: dict[str, Any] = {}

    async def say(self, text: str, intent: str = "inform", **kwargs: Any) -> Outcome:
        requested = self.slots.get("requested_slot")
        t = tracker(text, intent, slots=self.slots, form=self.form, requested=requested, sender=self.sender,
                    **kwargs)
        outcome = await run(self.validator, t, self.domain)
        self.slots.update(outcome.slots)
        return outcome

    async def verify(self, sandbox_url: str, person: dict[str, str]) -> Outcome:
        self.slots["requested_slot"] = "person_name"
        await self.say(person["name"])
        await self.say(person["id"], entities=[entity("id_number", person["id"])])
        sent = await self.say(person["phone"], entities=[entity("phone", person["phone"])])
        assert "验证码已发送至您的手机 138****" in sent.text
        return await self.say(latest_code(sandbox_url, person["phone"]))

    async def verified(self, sandbox_url: str, person: dict[str, str]) -> dict[str, Any]:
        """The person verified for this chat user, once per sandbox (the token belongs to the chat user; the
        phones' SMS limits are shared by the module's tests). Returns the identity slots."""
        key = (sandbox_url, self.sender)
        if key not in _verified:
            await self.verify(sandbox_url, person)
            _verified[key] = {name: self.slots.get(name) for name in IDENTITY_SLOTS}
        self.slots.update(_verified[key])
        return _verified[key]

    async def action(self, action: Action) -> Outcome:
        """Run an action after the form (the ask or submit action), with the form's slots."""
        outcome = await run(action, tracker(slots=self.slots, sender=self.sender, form=self.form), self.domain)
        self.slots.update(outcome.slots)
        return outcome
