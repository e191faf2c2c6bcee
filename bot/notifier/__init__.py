"""Progress notifications (`python -m bot notifier`): the back ends' state changes become messages in the citizens'
conversations, once each, through the channel each citizen used (docs/notifications.md).

    sandbox (services/) ── signed POST /events ──► notifier ── trigger_intent ──► Rasa ──► the citizen's channel
    transactional outbox,      (bot/notifier/app.py)   (worker.py,    (delivery.py)   (WeChat, Telegram, web chat
    retried until accepted                               store.py)                      and REST outboxes)

- app.py: the webhook: size, signature, fields; stores each event once by its event_id.
- store.py, models.py: the notifier's tables in the conversation log's database (revision 0005): one row per event
  with its outcome (the console's page "进度提醒"), and the conversations that replied "退订".
- worker.py: claims queued rows, skips opted-out citizens, delivers through Rasa (delivery.py), falls back to a
  WeChat template message outside the 48-hour window (wechat_template.py), retries what may pass.
- signing.py: the HMAC signature the sandbox adds and the notifier checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

DAY = 24 * 3600.0

logger = logging.getLogger(__name__)


def main() -> None:
    """Serve the webhook on NOTIFIER_HOST:NOTIFIER_PORT and run the worker beside it."""
    import uvicorn

    from bot.log_migrations import ensure_schema
    from bot.masking import install_log_masking
    from bot.notifier.app import create_app
    from bot.notifier.delivery import RasaDelivery
    from bot.notifier.signing import webhook_secret
    from bot.notifier.wechat_template import TemplateFallback
    from bot.notifier.worker import Worker
    from bot.secret_store import RASA_API_TOKEN, shared_secret
    from bot.settings import NotifierSettings, WeChatSettings
    from bot.sqlite import create_engine

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    settings = NotifierSettings.from_env()
    engine = create_engine(settings.database_url)
    ensure_schema(engine)  # migrated in development; in production `python -m bot migrate` must have run
    rasa = RasaDelivery(settings.rasa_url or "", shared_secret(RASA_API_TOKEN), settings.rasa_timeout)
    worker = Worker(settings, engine, rasa, TemplateFallback.configured(WeChatSettings.from_env()))
    app = create_app(settings, engine, webhook_secret(), worker)

    @contextlib.asynccontextmanager
    async def running(_app: object) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(worker.run()), asyncio.create_task(_purge_daily(engine, settings.retention_days))]
        yield
        for task in tasks:
            task.cancel()
        await worker.drain()
        await rasa.aclose()

    app.router.lifespan_context = running
    logger.info("notifier on %s:%s, delivering through %s", settings.host, settings.port, settings.rasa_url)
    # No access log: the back ends post an event per state change, and the masking of every log line (above) leaves
    # uvicorn's access formatter without the arguments it unpacks. Refusals are logged by the app itself.
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=False)


async def _purge_daily(engine: object, retention_days: float) -> None:
    from bot.notifier.store import purge_finished_before

    while True:
        try:
            gone = await asyncio.to_thread(purge_finished_before, engine, time.time() - retention_days * DAY)
            if gone:
                logger.info("retention: %d notifications older than %.0f days deleted", gone, retention_days)
        except Exception:
            logger.exception("retention of notifications failed; tried again tomorrow")
        await asyncio.sleep(DAY)
