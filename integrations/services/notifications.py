"""Client of the sandbox's progress notifications: watch one of the verified citizen's own transactions."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.services.base import BaseServiceClient, idempotency_key


@dataclass(frozen=True)
class Subscription:
    service: str
    reference: str
    subscribed_at: str
    created: bool  # False when this conversation already watched it (the same subscription, renewed)


class NotificationsClient(BaseServiceClient):
    service_name = "进度提醒服务"

    async def subscribe(
        self, *, token: str, chat_user: str, service: str, reference: str, subscriber: str
    ) -> Subscription:
        """Ask to be told when `reference` of `service` changes state. `subscriber` is the conversation id sealed by
        the assistant; the service passes it back with every state change and cannot read it.

        Raises ServiceRejected (subscription_target_not_found: not the citizen's, or unknown; service_not_watchable)
        or ServiceUnavailable. Subscribing again is harmless, so a retry carries a stable key."""
        status, data = await self._request(
            "POST",
            "/api/v1/notifications/subscriptions",
            json={"service": service, "reference": reference, "subscriber": subscriber},
            token=token,
            chat_user=chat_user,
            idempotency_key=idempotency_key(chat_user, f"watch:{service}", reference),
        )
        return Subscription(data["service"], data["reference"], data["subscribed_at"], created=status == 201)
