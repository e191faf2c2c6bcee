"""Client of the identity-verification service (SMS one-time code → token)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from integrations.services.base import BaseServiceClient

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


@dataclass(frozen=True)
class SmsCodeSent:
    verification_id: str
    phone_masked: str
    expires_in: int
    level: str  # "identity" (name + ID number + phone) or "phone"


@dataclass(frozen=True)
class VerifiedIdentity:
    token: str
    expires_in: int
    level: str
    name_masked: str


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    sent_at: str

    @property
    def code(self) -> str | None:
        match = _CODE.search(self.text)
        return match.group(1) if match else None


class IdentityClient(BaseServiceClient):
    service_name = "身份核验服务"

    async def request_sms_code(
        self, *, name: str, phone: str, chat_user: str, id_number: str | None = None
    ) -> SmsCodeSent:
        """Send a 6-digit code. Not retried: a retry would send a second SMS.

        Refusals (ServiceRejected, message in Chinese with the next step): 404 `identity_mismatch`; 429
        `identity_check_limited` (too many failed checks today), `sms_rate_limited` (wait a few minutes) and
        `sms_daily_limit` (no more codes today), each with `details["retry_after"]` in seconds.
        """
        body = {"name": name, "phone": phone, "chat_user": chat_user}
        if id_number:
            body["id_number"] = id_number
        _, data = await self._request("POST", "/api/v1/identity/sms-codes", json=body)
        return SmsCodeSent(
            data["verification_id"], data["phone_masked"], int(data["expires_in"]), data["level"]
        )

    async def verify_code(self, *, verification_id: str, code: str) -> VerifiedIdentity:
        """Exchange the code for a token bound to this person and chat user. Not retried (counts attempts)."""
        body = {"verification_id": verification_id, "code": code}
        _, data = await self._request("POST", "/api/v1/identity/verifications", json=body)
        return VerifiedIdentity(data["token"], int(data["expires_in"]), data["level"], data["name_masked"])

    async def dev_sms_outbox(self, phone: str) -> list[SmsMessage]:
        """Development sandbox only (GOVBOT_ENV=development; 404 otherwise): the SMS outbox, newest first."""
        _, data = await self._request("GET", "/dev/sms-outbox", params={"phone": phone})
        return [SmsMessage(item["phone"], item["text"], item["sent_at"]) for item in data]

    async def dev_latest_code(self, phone: str) -> str | None:
        """Development sandbox only: the newest code sent to a phone."""
        messages = await self.dev_sms_outbox(phone)
        return messages[0].code if messages else None
