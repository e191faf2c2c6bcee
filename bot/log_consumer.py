"""The log consumer: Rasa's events from RabbitMQ, masked into the conversation log.

    python -m bot log-consumer     (RABBITMQ_URL, RABBITMQ_QUEUE, RABBITMQ_EXCHANGE; DATABASE_URL)

With `RABBITMQ_URL` set, the Rasa servers publish their events, raw, through Rasa's PikaEventBroker
(bot.stores.ConfiguredEventBroker) to a fanout exchange and a durable queue; this process reads the queue and writes
each event with the conversation log's own write path (bot.conversation_log.ConversationLogWriter): the same
masking, the same tables, the same sealed sender ids. So a Rasa replica never waits on the log database.

Exactly once in the log, whatever happens on the way:
- each event carries a stable key (bot.conversation_log.event_key: a keyed hash of the raw event) with a unique
  index, and rows are inserted only if absent: a redelivered message is stored once;
- a message is acknowledged only after the transaction holding its row committed;
- when the database is unreachable nothing is acknowledged: the batch is retried (backing off up to
  RETRY_MAX_SECONDS) until it is stored, and RabbitMQ keeps the rest;
- aio-pika's robust connection reconnects after a broker restart or a dropped connection and consumes again;
  messages that were delivered but not acknowledged come back, and their keys make them harmless.

One consumer per queue keeps the events of a conversation in order, which the masking's per-conversation memory
(an echoed name, a bare SMS code after "请输入验证码") relies on; a second consumer would share the load but each
would only remember the conversations it saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import sqlalchemy as sa
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from yarl import URL

from bot.conversation_log import BATCH_SIZE, ConversationLogWriter, PreparedBatch, open_log_database
from bot.settings import ConfigurationError, Settings

logger = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 10.0
SETTLE_TIMEOUT_SECONDS = 10.0
CONNECTION_NAME = "govbot-log-consumer"


class LogConsumer:
    """Consume the events queue and store every event once, masked. `run()` until `stop()`."""

    def __init__(
        self,
        rabbitmq_url: str,
        database_url: str,
        *,
        queue_name: str,
        exchange_name: str,
        batch_size: int = BATCH_SIZE,
        retry_first_seconds: float = RETRY_FIRST_SECONDS,
        retry_max_seconds: float = RETRY_MAX_SECONDS,
        connection_name: str = CONNECTION_NAME,
    ) -> None:
        self.rabbitmq_url = rabbitmq_url
        self.database_url = database_url
        self.queue_name = queue_name
        self.exchange_name = exchange_name
        self.batch_size = batch_size
        self.retry_first_seconds = retry_first_seconds
        self.retry_max_seconds = retry_max_seconds
        self.connection_name = connection_name
        self.writer: ConversationLogWriter | None = None
        self.connection: AbstractRobustConnection | None = None
        self.stored = 0  # events committed by this process (duplicates included: they were looked at and skipped)
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()  # set once consuming (tests, and a start-up log line)

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> LogConsumer:
        if not settings.rabbitmq_url:
            raise ConfigurationError("RABBITMQ_URL is not set: without it the Rasa server writes the log itself")
        return cls(
            settings.rabbitmq_url,
            settings.conversation_log_url,
            queue_name=settings.rabbitmq_queue,
            exchange_name=settings.rabbitmq_exchange,
            **options,
        )

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        engine = await self._retry("open the conversation log database", self._open_db)
        if engine is None:
            return  # stopped before it started
        self.writer = ConversationLogWriter(engine)
        self.connection = await self._retry("connect to RabbitMQ", self._connect)
        if self.connection is None:
            engine.dispose()
            return
        try:
            channel = await self.connection.channel()
            await channel.set_qos(prefetch_count=self.batch_size * 2)
            # The same declarations as Rasa's PikaEventBroker (fanout exchange, durable queue bound to it), so either
            # may start first and no event published meanwhile is lost.
            exchange = await channel.declare_exchange(self.exchange_name, aio_pika.ExchangeType.FANOUT)
            queue = await channel.declare_queue(self.queue_name, durable=True)
            await queue.bind(exchange, "")
            await queue.consume(self._inbox.put)
            logger.info("Log consumer: reading queue %s into the conversation log.", self.queue_name)
            self.ready.set()
            while not self._stopping.is_set():
                batch = await self._next_batch()
                if batch:
                    await self._handle(batch)
        finally:
            await self.connection.close()
            self.writer.engine.dispose()

    async def _open_db(self) -> sa.engine.Engine:
        return await asyncio.to_thread(open_log_database, self.database_url, pool_pre_ping=True)

    async def _connect(self) -> AbstractRobustConnection:
        url = URL(self.rabbitmq_url)
        if "name" not in url.query:  # the connection's name in RabbitMQ's tools (aio-pika ignores client_properties
            url = url.update_query(name=self.connection_name)  # when given a URL; aiormq reads `?name=`)
        connection = await aio_pika.connect_robust(url)
        connection.reconnect_callbacks.add(lambda *_: logger.warning("Log consumer: reconnected to RabbitMQ."))
        return connection

    async def _retry(self, what: str, attempt: Any) -> Any:
        """`await attempt()` until it works (a database or broker that is not up yet), backing off; None when
        stopped meanwhile."""
        delay = self.retry_first_seconds
        while True:
            try:
                return await attempt()
            except (sa.exc.SQLAlchemyError, OSError, aio_pika.exceptions.AMQPError, ConnectionError) as error:
                if self._stopping.is_set():
                    return None
                logger.warning("Log consumer: could not %s (%s); retrying in %.1f s.", what, type(error).__name__,
                               delay)
                await self._sleep(delay)
                delay = min(delay * 2, self.retry_max_seconds)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _next_batch(self) -> list[AbstractIncomingMessage]:
        try:
            first = await asyncio.wait_for(self._inbox.get(), 0.5)
        except asyncio.TimeoutError:
            return []
        batch = [first]
        while len(batch) < self.batch_size and not self._inbox.empty():
            batch.append(self._inbox.get_nowait())
        return batch

    async def _handle(self, messages: list[AbstractIncomingMessage]) -> None:
        assert self.writer is not None
        events, accepted = [], []
        for message in messages:
            event = _parse(message.body)
            if event is None:  # nothing Rasa sent: dropped, and named by its delivery only (no content in logs)
                logger.error("Log consumer: message %s is not a Rasa event; dropped.", message.delivery_tag)
                await _settle(message, functools.partial(message.reject, requeue=False))
                continue
            events.append(event)
            accepted.append(message)
        if not events:
            return
        # A replica that could not reach RabbitMQ for a while sends its events late, after newer ones of the same
        # conversation from another replica; the masking's memory needs them in the order they happened.
        events.sort(key=lambda event: event.get("timestamp") or 0)
        # Masking can take a while on a long message: off the event loop, which keeps the broker's heartbeats.
        prepared = await asyncio.to_thread(self.writer.prepare, events)
        del events  # the raw events now live only in the unacknowledged messages
        if not await self._store(prepared):
            return  # stopping: not acknowledged, so RabbitMQ delivers them again to the next consumer
        self.stored += len(prepared.events)
        for message in accepted:
            await _settle(message, message.ack)

    async def _store(self, prepared: PreparedBatch) -> bool:
        """Commit the batch, retrying while the database is unreachable; False only when stopping first."""
        assert self.writer is not None
        delay = self.retry_first_seconds
        while True:
            try:
                try:
                    await asyncio.to_thread(self.writer.store, prepared)
                    return True
                except (sa.exc.DataError, sa.exc.IntegrityError) as refused:
                    # Not the database being away: it refuses something in these rows. Retried row by row, the
                    # rows it refuses are dropped (as the in-process writer drops a batch it cannot store), so one
                    # bad event cannot hold up the queue.
                    logger.error("Log consumer: the database refused a batch of %d event(s) (%s); storing them one "
                                 "by one.", len(prepared.events), type(refused).__name__)
                    prepared = await asyncio.to_thread(self._without_refused, prepared)
                    continue
            except sa.exc.SQLAlchemyError as error:
                # Nothing acknowledged: RabbitMQ keeps these and the following events until the database is back.
                logger.warning("Log consumer: could not store %d event(s) (%s); retrying in %.1f s.",
                               len(prepared.events), type(error).__name__, delay)
            if self._stopping.is_set():
                self.writer.forget_senders(prepared)
                return False
            await self._sleep(delay)
            delay = min(delay * 2, self.retry_max_seconds)

    def _without_refused(self, prepared: PreparedBatch) -> PreparedBatch:
        """Store each row alone; what is left: the rows the database did not refuse (stored now, a no-op again)."""
        assert self.writer is not None
        kept = PreparedBatch([], [])
        for rows, into in ((prepared.events, kept.events), (prepared.senders, kept.senders)):
            for row in rows:
                single = PreparedBatch([row], []) if into is kept.events else PreparedBatch([], [row])
                try:
                    self.writer.store(single)
                    into.append(row)
                except (sa.exc.DataError, sa.exc.IntegrityError) as error:
                    what = row.get("type_name", "sender") if into is kept.events else "sender"
                    logger.error("Log consumer: dropped a %s row the database refuses (%s).", what,
                                 type(error).__name__)
                    if into is kept.senders:
                        self.writer.forget_senders(single)
        return kept


def _parse(body: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None


async def _settle(message: AbstractIncomingMessage, outcome: Callable[[], Awaitable[Any]]) -> None:
    """Ack or reject. On the channel the message came on, if it still lives: after a lost connection RabbitMQ
    delivers the message again (its key makes that a no-op), and an ack written to a dead socket would wait forever."""
    channel = getattr(message, "channel", None)
    if channel is not None and getattr(channel, "is_closed", False):
        logger.info("Log consumer: delivery %s came on a closed channel; RabbitMQ delivers it again.",
                    message.delivery_tag)
        return
    try:
        await asyncio.wait_for(outcome(), SETTLE_TIMEOUT_SECONDS)
    except Exception as error:  # noqa: BLE001 - any channel error means the same: it comes back
        logger.info("Log consumer: could not settle delivery %s (%s); RabbitMQ delivers it again.",
                    message.delivery_tag, type(error).__name__)


def main(settings: Settings | None = None) -> None:
    """`python -m bot log-consumer` (which has run the production checklist first): runs until SIGINT or SIGTERM."""
    from bot.masking import install_log_masking

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    try:
        consumer = LogConsumer.from_settings(settings or Settings.from_env())
    except ConfigurationError as error:
        raise SystemExit(str(error)) from None

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, consumer.stop)
        await consumer.run()

    asyncio.run(serve())
