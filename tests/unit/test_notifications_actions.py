"""Progress notifications in the conversation, with real trackers: told once per event, in the middle of a form
without breaking it, "退订" and "订阅提醒" kept beside the log, and `watch` subscribing at the real sandbox."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from actions import notifications
from actions.notifications import ActionNotificationsResume, ActionNotificationsStop, ActionProgressNotification
from actions.rent_subsidy import ValidateRentSubsidyForm
from bot.log_migrations import migrate_database
from bot.masking import hash_sender_id
from bot.notifier import store
from bot.sealing import unseal
from bot.settings import SandboxSettings
from bot.sqlite import create_engine
from tests.e2e.stack import free_port
from tests.unit.conftest import _actions_talking_to, entity, tracker
from tests.unit.form_chat import FormChat
from tests.unit.rendering import run

CHEN = {"name": "陈晓", "id": "330106199503140023", "phone": "13800000001"}
EXTERNAL = "EXTERNAL_progress_update"


def news(event_id: str = "ev-1", service: str = "rent_subsidy", state: str = "paid",
         detail: str = "9600元已发放至您的账户6222 **** **** 4567") -> list[dict]:
    values = {"notification_event": event_id, "notification_service": service, "notification_state": state,
              "notification_reference": "ZF202612345678", "notification_detail": detail}
    return [entity(name, value) for name, value in values.items()]


@pytest.fixture
def preferences(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The actions keep opt-outs in a conversation log database of this test's own."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    migrate_database(url)
    monkeypatch.setenv("DATABASE_URL", url)
    notifications._engine.cache_clear()
    yield url
    notifications._engine.cache_clear()


# --- telling ---------------------------------------------------------------------------------------------------------


async def test_a_progress_update_is_told_once_with_how_to_stop(domain: dict) -> None:
    told = await run(ActionProgressNotification(), tracker("", EXTERNAL, entities=news()), domain)
    assert told.responses == ["utter_progress_rent_subsidy_paid"]
    assert "ZF202612345678" in told.text and "9600元已发放至您的账户6222 **** **** 4567。" in told.text
    assert told.text.endswith("回复“退订”不再接收进度提醒。") and told.slots == {"progress_notified": "ev-1"}

    again = tracker("", EXTERNAL, entities=news())
    again.events.append({"event": "slot", "name": "progress_notified", "value": "ev-1"})  # told before a crash
    repeated = await run(ActionProgressNotification(), again, domain)
    assert repeated.messages == [] and repeated.slots == {"progress_notified": "ev-1"}


async def test_each_kind_of_change_has_its_own_words_and_the_rest_a_general_one(domain: dict) -> None:
    green = await run(ActionProgressNotification(), tracker(
        "", EXTERNAL, entities=news(service="health_code_check_in", state="green", detail="健康码已转为绿码")), domain)
    assert green.responses == ["utter_progress_health_code_green"] and "绿码" in green.text
    other = await run(ActionProgressNotification(), tracker(
        "", EXTERNAL, entities=news(service="tax_deferral", state="approved", detail="延期缴纳申请已批准。")), domain)
    assert other.responses == ["utter_progress_update"]
    assert "“延期缴纳税款申请”（编号ZF202612345678）有新进展：延期缴纳申请已批准。" in other.text


async def test_a_notification_in_the_middle_of_a_form_lets_the_form_go_on(live_services: str, domain: dict,
                                                                           preferences: str) -> None:
    chat = FormChat(domain, "notified-mid-form", "rent_subsidy_form", ValidateRentSubsidyForm())
    chat.slots["requested_slot"] = "person_name"
    await chat.say("陈晓")
    assert chat.slots["requested_slot"] == "id_number"
    told = await chat.say("EXTERNAL: EXTERNAL_progress_update", intent=EXTERNAL, entities=news())
    assert told.responses == ["utter_progress_rent_subsidy_paid"]  # told, and not taken for an ID number
    assert chat.slots["requested_slot"] == "id_number" and chat.slots["person_name"] == "陈晓"
    assert not chat.slots.get("form_failures")
    stopped = await chat.say("退订", intent="notifications_stop", confidence=0.93)
    assert stopped.responses == ["utter_notifications_stopped"] and chat.slots["requested_slot"] == "id_number"
    assert store.opted_out(create_engine(preferences), hash_sender_id("notified-mid-form"))
    answered = await chat.say(CHEN["id"], entities=[entity("id_number", CHEN["id"])])
    assert chat.slots["id_number"] == CHEN["id"] and chat.slots["requested_slot"] == "phone", answered.text


async def test_an_unsure_stop_in_a_form_is_read_as_the_answer(live_services: str, domain: dict) -> None:
    chat = FormChat(domain, "unsure-stop", "rent_subsidy_form", ValidateRentSubsidyForm())
    chat.slots["requested_slot"] = "person_name"
    said = await chat.say("陈晓", intent="notifications_stop", confidence=0.4)
    assert chat.slots["person_name"] == "陈晓" and "utter_notifications_stopped" not in said.responses


# --- opting out and in -----------------------------------------------------------------------------------------------


async def test_stop_and_resume_are_kept_beside_the_log(domain: dict, preferences: str) -> None:
    engine = create_engine(preferences)
    who = hash_sender_id("wechat:oStopper")
    stopped = await run(ActionNotificationsStop(), tracker("退订", "notifications_stop", sender="wechat:oStopper"),
                        domain)
    assert stopped.responses == ["utter_notifications_stopped"] and "订阅提醒" in stopped.text
    assert [b["payload"] for b in stopped.buttons] == ["/notifications_resume"]
    assert store.opted_out(engine, who)
    resumed = await run(ActionNotificationsResume(), tracker("订阅提醒", "notifications_resume",
                                                            sender="wechat:oStopper"), domain)
    assert resumed.responses == ["utter_notifications_resumed"] and not store.opted_out(engine, who)


async def test_a_preference_that_cannot_be_saved_is_said_so(domain: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    notifications._engine.cache_clear()
    try:
        failed = await run(ActionNotificationsStop(), tracker("退订", "notifications_stop"), domain)
    finally:
        notifications._engine.cache_clear()
    assert failed.responses == ["utter_notifications_change_failed"] and "转人工" in failed.text


# --- watching --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quiet_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A sandbox of this module's own whose events go nowhere (no notifier listens on its webhook port): its URL
    and its database's."""
    from tests.services.conftest import serving

    database = f"sqlite:///{tmp_path_factory.mktemp('watch') / 'services.db'}"
    settings = SandboxSettings(database_url=database, notify_url=f"http://127.0.0.1:{free_port()}/events")
    with serving(settings) as url:
        yield url, database


@pytest.fixture
def watching(quiet_sandbox: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    notifications._client.cache_clear()
    yield from _actions_talking_to(quiet_sandbox[0], monkeypatch)
    notifications._client.cache_clear()


async def test_watch_subscribes_the_conversation_sealed(watching: str, quiet_sandbox: tuple[str, str],
                                                         domain: dict) -> None:
    from actions import services
    from tests.services.helpers import query

    chat = FormChat(domain, "rest:watcher", "rent_subsidy_form", ValidateRentSubsidyForm())
    await chat.verify(watching, CHEN)
    application = await services.rent_subsidy().apply(
        token=chat.slots["identity_token"], chat_user="rest:watcher", idempotency_key="watch-test")
    watched = tracker(slots=chat.slots, sender="rest:watcher")
    events = await notifications.watch(watched, "rent_subsidy", application.application_no)
    assert events == [{"event": "slot", "timestamp": None, "name": "progress_watch",
                       "value": {"service": "rent_subsidy", "reference": application.application_no}}]
    assert httpx.post(f"{watching}/dev/rent-subsidy/applications/{application.application_no}/payout").is_success
    [event] = httpx.get(f"{watching}/dev/notifications/outbox").json()
    assert event["state"] == "paid"
    [(sealed,)] = query(quiet_sandbox[1], "SELECT subscriber FROM notification_subscriptions")
    assert unseal(sealed) == "rest:watcher"  # only the assistant can open it


async def test_watch_never_raises_and_never_waits_long(domain: dict, services_down: None) -> None:
    notifications._client.cache_clear()
    down = tracker(slots={"identity_token": "token"}, sender="rest:unlucky")
    started = time.monotonic()
    assert await notifications.watch(down, "rent_subsidy", "ZF202612345678") == []
    assert time.monotonic() - started < notifications.WATCH_SECONDS + 1
    assert await notifications.watch(tracker(sender="rest:x"), "rent_subsidy", "ZF1") == []  # not verified
    assert await notifications.watch(down, "entry_control", "日本") == []  # nothing there to watch
    notifications._client.cache_clear()
