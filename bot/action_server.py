"""The action server (`python -m bot.action_server`): rasa-sdk's app, reachable only by the Rasa server.

`rasa run actions` binds every interface, allows any CORS origin, takes any caller and echoes the request body
(the whole tracker, with a citizen's name and ID number) in its error answers. A forged tracker posted to /webhook
would run any action: send SMS codes to any phone, probe the identity registry. Here the same rasa-sdk app
listens on ACTION_HOST (loopback by default), has no CORS, and every call but /health must carry
`Authorization: Bearer <ACTION_SERVER_TOKEN>`, which the Rasa server sends from endpoints.yml.
"""

from __future__ import annotations

import hmac
import logging

from rasa_sdk.endpoint import create_app as create_sdk_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.knowledge_base import knowledge_base
from bot.masking import install_log_masking
from bot.production import enforce
from bot.secret_store import ACTION_SERVER_TOKEN, shared_secret

logger = logging.getLogger(__name__)

ACTIONS_PACKAGE = "actions"
PUBLIC = frozenset({"/health"})
MAX_REQUEST_BYTES = 1024 * 1024  # a tracker of a long conversation is a few hundred KB


def create_app(token: str, package: str = ACTIONS_PACKAGE) -> Sanic:
    if not token:
        raise ValueError("the action server token must not be empty")
    app = create_sdk_app(package, cors_origins=None)
    app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES

    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in PUBLIC:
            return None
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return None
        return response.json({"error": "unauthorized"}, status=401)

    async def failed(request: Request, exception: Exception) -> HTTPResponse:
        # rasa-sdk's own handler returns the request body; the tracker holds personal data.
        logger.error("Action call failed: %s", type(exception).__name__, exc_info=exception)
        return response.json({"error": "action server error"}, status=500)

    app.register_middleware(require_token, "request")
    app.error_handler.add(Exception, failed)
    return app


def main() -> None:
    settings = enforce("actions")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-8s %(name)s - %(message)s")
    install_log_masking()
    app = create_app(shared_secret(ACTION_SERVER_TOKEN, settings))
    # Built before serving: a few seconds of CPU that would otherwise stall the first policy question's turn and
    # every other conversation's on the event loop meanwhile.
    logger.info("Policy knowledge base: %d entries", len(knowledge_base().entries))
    logger.info("Action server on http://%s:%d", settings.action_host, settings.action_port)
    app.run(host=settings.action_host, port=settings.action_port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
