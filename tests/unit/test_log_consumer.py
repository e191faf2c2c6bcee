"""Events through RabbitMQ: Rasa's PikaEventBroker publishes, `python -m bot log-consumer` masks and stores.

On the local RabbitMQ and PostgreSQL, each test with its own queue, exchange and database. Outages are made with a
small TCP proxy in front of PostgreSQL or RabbitMQ that the test cuts and restores: the consumer sees refused
connections and dropped sockets as it would from a restarting server, while the machine's servers, which other jobs
use, keep running.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import shutil
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aio_pika
import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.utils.endpoints import EndpointConfig

import bot.cli
from bot.conversation_log import MaskingSQLEventBroker, event_key, iter_events
from bot.log_consumer import LogConsumer
from bot.masking import hash_sender_id
from bot.pika_broker import ReliablePikaEventBroker
from bot.production import problems
from bot.settings import ROOT, Settings
from tests.e2e.stack import free_port
from tests.postgres import postgres_or_skip

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/"
ID_NUMBER, PHONE = "330106199503140023", "13812340001"
SENDER = "wechat:oUpF8uMuAJO_test_consumer"


def project_event_broker() -> EndpointConfig:
    """The event broker of the project's own endpoints.yml, as the Rasa server reads it."""
    return AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml")).event_broker


# ---------------------------------------------------------------------------------------------------- fixtures


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """This test's own queue and exchange: a fanout exchange shared with a running stack would copy its events."""
    suffix = uuid.uuid4().hex[:10]
    queue, exchange = f"govbot_test_events_{suffix}", f"govbot-test-events-{suffix}"
    monkeypatch.setenv("RABBITMQ_URL", RABBITMQ)
    monkeypatch.setenv("RABBITMQ_QUEUE", queue)
    monkeypatch.setenv("RABBITMQ_EXCHANGE", exchange)
    monkeypatch.setenv("PII_HASH_SECRET", "test-secret")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")  # endpoints.yml reads them
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "test-token")
    return {"queue": queue, "exchange": exchange}


@pytest.fixture
async def rabbitmq(names: dict[str, str]) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    """A channel on the local RabbitMQ (skipped when it is not running); the test's queue and exchange are deleted
    afterwards."""
    try:
        connection = await aio_pika.connect(RABBITMQ, timeout=5)
    except Exception as error:  # noqa: BLE001 - whatever the reason, no broker to test with
        pytest.skip(f"local RabbitMQ not reachable: {error}")
    channel = await connection.channel()
    try:
        yield channel
    finally:
        with contextlib.suppress(Exception):
            await channel.queue_delete(names["queue"])
        with contextlib.suppress(Exception):
            await channel.exchange_delete(names["exchange"])
        await connection.close()


@pytest.fixture
def database_url() -> Iterator[str]:
    with postgres_or_skip("govbot_log_consumer_test") as url:
        yield url


class TcpProxy:
    """127.0.0.1:<port> → 127.0.0.1:<target>, which a test can cut (refuse new connections, drop open ones)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: asyncio.AbstractServer | None = None
        self._transports: set[asyncio.BaseTransport] = set()

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for transport in self._transports:
            transport.abort()
        self._transports.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._transports |= {writer.transport, upstream_writer.transport}
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.transport.abort()


@contextlib.asynccontextmanager
async def running(consumer: LogConsumer) -> AsyncIterator[LogConsumer]:
    task = asyncio.create_task(consumer.run())
    ready = asyncio.create_task(consumer.ready.wait())
    await asyncio.wait({task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # raises what went wrong
    assert consumer.ready.is_set(), "the log consumer did not start"
    try:
        yield consumer
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 20)


def consumer_for(database_url: str, rabbitmq_url: str = RABBITMQ) -> LogConsumer:
    settings = Settings.from_env()
    return LogConsumer(
        rabbitmq_url, database_url, queue_name=settings.rabbitmq_queue, exchange_name=settings.rabbitmq_exchange,
        retry_first_seconds=0.2, retry_max_seconds=1.0, connection_name=f"{settings.rabbitmq_queue}-consumer",
    )


def stored(database_url: str) -> list[dict]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("conversation_events"):
                return []
        with sa.orm.Session(engine) as session:
            return list(iter_events(session))
    finally:
        engine.dispose()


def stored_keys(database_url: str) -> list[str]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sa.text("SELECT event_key FROM conversation_events ORDER BY id")).scalars())
    finally:
        engine.dispose()


async def wait_for_rows(database_url: str, count: int, timeout: float = 30) -> list[dict]:
    """The stored events once there are `count` of them, then a moment more: a late duplicate would show."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = await asyncio.to_thread(stored, database_url)
        if len(rows) >= count:
            await asyncio.sleep(0.5)
            return await asyncio.to_thread(stored, database_url)
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"{len(rows)} of {count} events in the log after {timeout} s")
        await asyncio.sleep(0.1)


def turn(n: int, sender: str = SENDER) -> list[dict]:
    """One citizen turn with personal data: the ID number in the message, the slots, the bot's echo."""
    events = [
        UserUttered(f"第{n}次：我的身份证号是{ID_NUMBER}，电话{PHONE}",
                    intent={"name": "inform", "confidence": 0.9}, input_channel="wechat").as_dict(),
        SlotSet("id_number", ID_NUMBER).as_dict(),
        ActionExecuted("utter_confirm").as_dict(),
        BotUttered(f"好的，您的身份证号{ID_NUMBER}已收到（第{n}次）").as_dict(),
    ]
    return [{"sender_id": sender, **event} for event in events]


async def publish_through_rasa(events: list[dict]) -> None:
    """As the Rasa server does: endpoints.yml's broker (Rasa's PikaEventBroker for RABBITMQ_URL)."""
    broker = await EventBroker.create(project_event_broker())
    assert isinstance(broker, ReliablePikaEventBroker)
    try:
        for event in events:
            broker.publish(event)
        await asyncio.gather(*list(broker._background_tasks))
        assert not broker._kept
    finally:
        await broker.close()


def assert_masked_exactly_once(rows: list[dict], published: list[dict]) -> None:
    text = json.dumps(rows, ensure_ascii=False)
    assert ID_NUMBER not in text and PHONE not in text and SENDER not in text
    assert len(rows) == len(published)
    assert [row["event"] for row in rows] == [event["event"] for event in published]
    assert {row["sender_id"] for row in rows} == {hash_sender_id(SENDER)}
    users = [row["text"] for row in rows if row["event"] == "user"]
    assert all("330*************23" in user and "138****0001" in user for user in users), users


# ---------------------------------------------------------------------------------------------------- tests


async def test_without_rabbitmq_url_the_log_is_written_in_process(
    names: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RABBITMQ_URL", raising=False)
    monkeypatch.setenv("GOVBOT_VAR_DIR", str(tmp_path))
    broker = await EventBroker.create(project_event_broker())
    assert isinstance(broker, MaskingSQLEventBroker)
    assert str(broker.url) == f"sqlite:///{tmp_path / 'conversation_log.db'}"
    await broker.close()
    url = f"sqlite:///{tmp_path / 'log.db'}"  # the endpoint's own keys still reach it
    broker = await EventBroker.create(EndpointConfig(type="bot.stores.ConfiguredEventBroker", url=url))
    assert isinstance(broker, MaskingSQLEventBroker) and str(broker.url) == url
    await broker.close()


async def test_events_published_by_rasa_reach_the_log_once_and_masked(
    rabbitmq: aio_pika.abc.AbstractChannel, database_url: str
) -> None:
    published = turn(1) + turn(2)
    consumer = consumer_for(database_url)
    async with running(consumer):  # declares the queue first, as a deployment starts it before the Rasa servers
        await publish_through_rasa(published)
        rows = await wait_for_rows(database_url, len(published))
    assert_masked_exactly_once(rows, published)
    assert stored_keys(database_url) == [event_key(event) for event in published]
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        senders = connection.execute(sa.text("SELECT sender_hash, channel FROM conversation_senders")).all()
    engine.dispose()
    assert senders == [(hash_sender_id(SENDER), "wechat")]  # sealed once, as the in-process log does


async def test_events_published_before_the_consumer_starts_wait_in_the_queue(
    rabbitmq: aio_pika.abc.AbstractChannel, database_url: str
) -> None:
    published = turn(1)
    await publish_through_rasa(published)  # Rasa's broker declares and binds the durable queue itself
    async with running(consumer_for(database_url)):
        rows = await wait_for_rows(database_url, len(published))
    assert_masked_exactly_once(rows, published)


async def test_a_message_delivered_twice_is_stored_once(
    rabbitmq: aio_pika.abc.AbstractChannel, names: dict[str, str], database_url: str
) -> None:
    published = turn(1)
    exchange = await rabbitmq.declare_exchange(names["exchange"], aio_pika.ExchangeType.FANOUT)
    queue = await rabbitmq.declare_queue(names["queue"], durable=True)
    await queue.bind(exchange, "")
    for event in [*published, *published, published[0]]:  # every message twice, the first three times
        await exchange.publish(aio_pika.Message(json.dumps(event).encode()), "")
    await exchange.publish(aio_pika.Message(b"not json"), "")  # dropped, and the rest goes on
    async with running(consumer_for(database_url)) as consumer:
        rows = await wait_for_rows(database_url, len(published))
        second = turn(2)
        await publish_through_rasa(second + second[:1])
        rows = await wait_for_rows(database_url, len(published) + len(second))
        assert consumer.stored == 2 * len(published) + 1 + len(second) + 1  # each looked at, duplicates skipped
    assert_masked_exactly_once(rows, published + second)
    # Nothing left for a next consumer: every copy was acknowledged.
    state = await rabbitmq.declare_queue(names["queue"], durable=True, passive=True)
    assert state.declaration_result.message_count == 0


async def test_postgresql_unavailable_for_a_while_loses_nothing(
    rabbitmq: aio_pika.abc.AbstractChannel, database_url: str
) -> None:
    proxy = await TcpProxy(5432).start()
    through_proxy = sa.engine.make_url(database_url).set(port=proxy.port).render_as_string(hide_password=False)
    first, during, after = turn(1), turn(2) + turn(3), turn(4)
    async with running(consumer_for(through_proxy)):
        await publish_through_rasa(first)
        await wait_for_rows(database_url, len(first))
        await proxy.cut()  # open connections dropped, new ones refused
        await publish_through_rasa(during)
        await asyncio.sleep(3)  # the consumer retries meanwhile, acknowledging nothing
        assert len(stored(database_url)) == len(first)
        await proxy.start()
        await publish_through_rasa(after)
        rows = await wait_for_rows(database_url, len(first + during + after))
    assert_masked_exactly_once(rows, first + during + after)


async def test_rabbitmq_connection_lost_between_commit_and_ack_stores_each_event_once(
    rabbitmq: aio_pika.abc.AbstractChannel, database_url: str
) -> None:
    """The consumer's RabbitMQ connection drops while a batch waits for the database: the batch is committed when
    the database is back, its acks fail, RabbitMQ delivers it again after the reconnection, and the keys make the
    second copies no-ops. Events published while the consumer is disconnected wait in the durable queue."""
    database_proxy, broker_proxy = await TcpProxy(5432).start(), await TcpProxy(5672).start()
    through_proxy = sa.engine.make_url(database_url).set(port=database_proxy.port).render_as_string(
        hide_password=False
    )
    amqp_through_proxy = f"amqp://guest:guest@127.0.0.1:{broker_proxy.port}/?reconnect_interval=0.5"
    first, stuck, while_away = turn(1), turn(2), turn(3)
    async with running(consumer_for(through_proxy, amqp_through_proxy)):
        await publish_through_rasa(first)
        await wait_for_rows(database_url, len(first))
        await database_proxy.cut()
        await publish_through_rasa(stuck)  # delivered, then stuck in the consumer's retries
        await asyncio.sleep(1.5)
        await broker_proxy.cut()  # the connection the deliveries came on is gone
        await publish_through_rasa(while_away)
        await database_proxy.start()  # the stuck batch commits now; its acks cannot reach RabbitMQ
        await asyncio.sleep(2)
        await broker_proxy.start()  # reconnects, consumes again: the stuck batch comes back, then the rest
        rows = await wait_for_rows(database_url, len(first + stuck + while_away), timeout=40)
        await asyncio.sleep(1.5)
        rows = stored(database_url)
    assert_masked_exactly_once(rows, first + stuck + while_away)
    state = await rabbitmq.declare_queue(Settings.from_env().rabbitmq_queue, durable=True, passive=True)
    assert state.declaration_result.message_count == 0


async def test_events_rasa_could_not_publish_are_sent_again_in_order_once_rabbitmq_is_back(
    rabbitmq: aio_pika.abc.AbstractChannel, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Rasa server's own connection to RabbitMQ drops during traffic (a broker restart): the events it could not
    publish are kept, sent again when RabbitMQ is back, ahead of the newer ones, and none is logged with its text."""
    broker_proxy = await TcpProxy(5672).start()
    monkeypatch.setenv("RABBITMQ_URL", f"amqp://guest:guest@127.0.0.1:{broker_proxy.port}/?reconnect_interval=0.5")
    before, during, after = turn(1), turn(2), turn(3)
    broker = await EventBroker.create(project_event_broker())
    assert isinstance(broker, ReliablePikaEventBroker)
    try:
        async with running(consumer_for(database_url)):
            for event in before:
                broker.publish(event)
            await wait_for_rows(database_url, len(before))
            await broker_proxy.cut()
            with capture_logs() as logged:
                for event in during:
                    broker.publish(event)
                await asyncio.sleep(2)
            assert broker._kept  # not lost: waiting
            await broker_proxy.start()
            for event in after:
                broker.publish(event)
            rows = await wait_for_rows(database_url, len(before + during + after), timeout=40)
    finally:
        await broker.close()
    assert_masked_exactly_once(rows, before + during + after)
    assert ID_NUMBER not in logged.getvalue() and "第2次" not in logged.getvalue()


@contextlib.contextmanager
def capture_logs() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    logging.getLogger().addHandler(handler)
    try:
        yield buffer
    finally:
        logging.getLogger().removeHandler(handler)


# ---------------------------------------------------------------------------------------------------- the command


def test_the_command_needs_rabbitmq_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RABBITMQ_URL", raising=False)
    monkeypatch.delenv("GOVBOT_ENV", raising=False)
    with pytest.raises(SystemExit, match="RABBITMQ_URL is not set"):
        bot.cli.main(["log-consumer"])


def test_in_production_the_command_needs_the_secrets_it_hashes_and_seals_with(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVBOT_ENV", "production")
    monkeypatch.setenv("PII_HASH_SECRET", "short")
    monkeypatch.delenv("PII_SEAL_KEY", raising=False)
    assert problems("log-consumer") == ["PII_HASH_SECRET is shorter than 32 characters", "PII_SEAL_KEY is not set"]


async def test_python_m_bot_log_consumer_stores_the_events_and_stops_on_sigterm(
    rabbitmq: aio_pika.abc.AbstractChannel, database_url: str
) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "log-consumer", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        published = turn(1)
        await publish_through_rasa(published)
        rows = await wait_for_rows(database_url, len(published), timeout=60)
        assert_masked_exactly_once(rows, published)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
        output = (await process.stdout.read()).decode()
        assert "reading queue" in output and ID_NUMBER not in output
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_an_event_the_database_refuses_is_dropped_and_the_queue_goes_on(
    rabbitmq: aio_pika.abc.AbstractChannel, database_url: str
) -> None:
    good = turn(1)
    refused = {"sender_id": SENDER, **UserUttered("你好", intent={"name": "x" * 300, "confidence": 0.9}).as_dict()}
    async with running(consumer_for(database_url)):
        await publish_through_rasa([good[0], refused, *good[1:]])  # intent_name is VARCHAR(255) in PostgreSQL
        rows = await wait_for_rows(database_url, len(good))
        await asyncio.sleep(1)
    assert_masked_exactly_once(stored(database_url), good)
    assert rows == stored(database_url)
    state = await rabbitmq.declare_queue(Settings.from_env().rabbitmq_queue, durable=True, passive=True)
    assert state.declaration_result.message_count == 0


async def test_the_consumer_waits_for_rabbitmq_and_postgresql_at_start(
    rabbitmq: aio_pika.abc.AbstractChannel, database_url: str
) -> None:
    database_proxy, broker_proxy = TcpProxy(5432), TcpProxy(5672)  # not listening yet: connections refused
    through_proxy = sa.engine.make_url(database_url).set(port=database_proxy.port).render_as_string(
        hide_password=False
    )
    consumer = consumer_for(through_proxy, f"amqp://guest:guest@127.0.0.1:{broker_proxy.port}/")
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.sleep(1.5)
        assert not task.done() and not consumer.ready.is_set()
        await database_proxy.start()
        await asyncio.sleep(1.5)
        assert not task.done() and not consumer.ready.is_set()
        await broker_proxy.start()
        await asyncio.wait_for(consumer.ready.wait(), 20)
        published = turn(1)
        await publish_through_rasa(published)
        assert_masked_exactly_once(await wait_for_rows(database_url, len(published)), published)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 20)


async def rabbitmqctl(*args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        "rabbitmqctl", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output.decode()
    return output.decode()


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs rabbitmqctl (the RabbitMQ server's tools)")
async def test_a_connection_closed_by_rabbitmq_is_reopened_and_nothing_is_lost(
    rabbitmq: aio_pika.abc.AbstractChannel, database_url: str
) -> None:
    """RabbitMQ itself closes the consumer's connection (`rabbitmqctl close_connection`, as on a broker shutdown):
    only this test's connection, found by its name; the server and the other jobs' connections stay up."""
    consumer = consumer_for(database_url)
    consumer.retry_first_seconds = 0.2
    first, second = turn(1), turn(2)
    async with running(consumer):
        await publish_through_rasa(first)
        await wait_for_rows(database_url, len(first))
        listing = await rabbitmqctl("list_connections", "--quiet", "--no-table-headers", "pid", "client_properties")
        ours = [line.split("\t")[0] for line in listing.splitlines() if consumer.connection_name in line]
        assert len(ours) == 1, listing
        await rabbitmqctl("close_connection", ours[0], "test: as a broker restart would")
        # A restart also forgets the transient exchange (Rasa declares it so) and with it the binding; the durable
        # queue and its persistent messages stay. Both sides declare them again when they reconnect.
        await rabbitmq.exchange_delete(Settings.from_env().rabbitmq_exchange)
        await publish_through_rasa(second)
        rows = await wait_for_rows(database_url, len(first + second), timeout=40)
    assert_masked_exactly_once(rows, first + second)
