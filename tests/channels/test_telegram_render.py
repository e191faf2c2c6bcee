"""Telegram channel pieces without the stack: splitting, keyboards, reading updates, per-chat ordering."""

from __future__ import annotations

import asyncio
import json

import pytest
from telegram import Bot

from integrations.channels.state import MemoryChannelState
from integrations.channels.telegram.queues import ChatQueues
from integrations.channels.telegram.render import (
    BUTTONS_ONLY_TEXT,
    CALLBACK_PREFIX,
    TEXT_LIMIT,
    inline_keyboard,
    keyboard_rows,
    load_button,
    render,
    split_text,
    utf16_len,
)
from integrations.channels.telegram.updates import Inbound, Kind, MalformedUpdate, classify, parse_update
from tests.channels.fake_telegram import (
    callback_update,
    group_text_update,
    sticker_update,
    text_update,
    voice_update,
)

BOT = Bot("123456789:TEST-telegram-token")
FAIR_PAYLOAD = '/job_fair_register{"job_fair_id":"JF0005"}'


# -- splitting ----------------------------------------------------------------------------------------


def test_a_short_text_is_one_message() -> None:
    assert split_text("您好！请问要办理什么业务？") == ["您好！请问要办理什么业务？"]


def test_a_long_text_is_split_at_line_breaks_and_nothing_is_lost() -> None:
    lines = [f"{i}. 杭州数字经济人才专场招聘会｜2026-12-0{i % 9 + 1}｜线上" for i in range(300)]
    text = "\n".join(lines)
    chunks = split_text(text)
    assert len(chunks) > 1
    assert all(utf16_len(c) <= TEXT_LIMIT for c in chunks)
    assert "\n".join(chunks) == text
    assert all(c.split("\n")[0] in lines for c in chunks), "every chunk starts at the beginning of a line"


def test_one_huge_line_is_cut_without_breaking_characters() -> None:
    line = "租房补贴🏠" * 2000  # the emoji is 2 UTF-16 units, as Telegram counts
    chunks = split_text(line)
    assert all(utf16_len(c) <= TEXT_LIMIT for c in chunks)
    assert "".join(chunks) == line
    assert utf16_len(chunks[0]) > TEXT_LIMIT - 2


def test_exactly_the_limit_stays_whole() -> None:
    assert split_text("办" * TEXT_LIMIT) == ["办" * TEXT_LIMIT]
    assert len(split_text("办" * (TEXT_LIMIT + 1))) == 2


# -- keyboards ----------------------------------------------------------------------------------------


def test_short_titles_go_two_per_row_long_ones_alone() -> None:
    assert keyboard_rows(["专科", "本科", "硕士", "博士", "转人工"]) == [[0, 1], [2, 3], [4]]
    assert keyboard_rows(["确认承诺并提交", "暂不申请", "这是一个特别长的按钮标题"]) == [[0], [1], [2]]


async def test_button_payloads_are_stored_under_short_callback_data() -> None:
    state = MemoryChannelState()
    long_payload = '/entry_control_query{"country_region": "阿拉伯联合酋长国"}'  # 70 bytes in UTF-8
    assert len(long_payload.encode()) > 64
    offered = [{"title": "阿联酋", "payload": long_payload}, {"title": "报名第5场", "payload": FAIR_PAYLOAD}]
    keyboard = await inline_keyboard(offered, state, "5550001")
    buttons = [b for row in keyboard.inline_keyboard for b in row]
    assert [b.text for b in buttons] == ["阿联酋", "报名第5场"]
    for button, payload in zip(buttons, [long_payload, FAIR_PAYLOAD], strict=True):
        assert len(button.callback_data.encode()) <= 64
        assert button.callback_data.startswith(CALLBACK_PREFIX)
        short_id = button.callback_data[len(CALLBACK_PREFIX) :]
        assert await load_button(state, "5550001", short_id) == payload
        assert await load_button(state, "5550002", short_id) is None  # shown to 5550001 only


async def test_render_puts_buttons_on_the_last_chunk_and_skips_what_telegram_cannot_show() -> None:
    state = MemoryChannelState()
    long_text = "\n".join(f"第{i}场招聘会" for i in range(1000))
    messages = [
        {"recipient_id": "1", "text": long_text, "buttons": [{"title": "查看更多", "payload": "/show_more"}]},
        {"recipient_id": "1", "custom": {"kind": "chart"}},
        {"recipient_id": "1", "buttons": [{"title": "转人工", "payload": "/request_human"}]},
    ]
    outgoing = await render(messages, state, "1")
    assert len(outgoing) == 4
    assert [o.keyboard is not None for o in outgoing] == [False, False, True, True]
    assert "\n".join(o.text for o in outgoing[:3]) == long_text
    assert outgoing[3].text == BUTTONS_ONLY_TEXT


# -- reading updates ----------------------------------------------------------------------------------


def read(update: dict) -> Inbound | None:
    return classify(parse_update(json.loads(json.dumps(update)), BOT))


def test_text_and_commands() -> None:
    item = read(text_update(5550001, "我想申请租房补贴"))
    assert (item.kind, item.user_id, item.chat_id, item.text) == (Kind.TEXT, "5550001", 5550001, "我想申请租房补贴")
    assert item.conversation_id == "tg:5550001"
    assert read(text_update(5550001, "/start")).text == "/greet"
    assert read(text_update(5550001, "/start@GovServiceTestBot web")).text == "/greet"
    assert read(text_update(5550001, "/cancel")).text == "/cancel"
    assert read(text_update(5550001, "/human")).text == "/request_human"
    assert read(text_update(5550001, "/help")).text == "/help"
    # A typed intent payload is not a command: users reach payloads only through the buttons they were shown.
    assert read(text_update(5550001, '/job_fair_register{"job_fair_id":"JF0001"}')).kind is Kind.UNKNOWN_COMMAND


def test_non_text_group_and_button_updates() -> None:
    assert read(sticker_update(5550002)).kind is Kind.UNSUPPORTED
    assert read(voice_update(5550002)).kind is Kind.UNSUPPORTED
    group = read(group_text_update(5550002, -1001234567890, "租房补贴怎么申请"))
    assert (group.kind, group.chat_id) == (Kind.GROUP, -1001234567890)
    press = read(callback_update(5550002, "p:AbCdEfGhIjKl"))
    assert (press.kind, press.text, press.chat_id) == (Kind.CALLBACK, "AbCdEfGhIjKl", 5550002)
    assert press.callback_query_id
    assert read(callback_update(5550002, "something-else")).text == ""


@pytest.mark.parametrize(
    "data",
    [[], "update", {"update_id": "1"}, {"update_id": True}, {"message": {}},
     {"update_id": 1, "message": "hi"}, {"update_id": 1, "message": {"message_id": 1}}],
)
def test_json_that_is_not_an_update_is_rejected(data: object) -> None:
    with pytest.raises(MalformedUpdate):
        parse_update(data, BOT)


def test_a_private_chat_is_always_its_senders_own() -> None:
    """Telegram gives a private chat its user's id: an update saying otherwise runs nothing, and the answer to a
    button press goes to whoever pressed, never to a chat the update names."""
    update = text_update(5550004, "你好")
    update["message"]["chat"]["id"] = 5550005
    assert read(update) is None
    elsewhere = {"message_id": 7, "date": 1, "chat": {"id": 5550005, "type": "private", "first_name": "晓"},
                 "text": "请您选择："}
    press = read(callback_update(5550004, "p:AbCdEfGhIjKl", elsewhere))
    assert (press.kind, press.chat_id, press.user_id) == (Kind.CALLBACK, 5550004, "5550004")


def test_a_text_over_the_cap_is_not_kept() -> None:
    item = read(text_update(5550006, "租" * 2001))
    assert (item.kind, item.text) == (Kind.TOO_LONG, "")
    assert read(text_update(5550006, "/" + "a" * 2001)).kind is Kind.TOO_LONG  # checked before commands


def test_edits_and_channel_posts_are_ignored() -> None:
    update = text_update(5550003, "改一下")
    update["edited_message"] = update.pop("message")
    assert read(update) is None


# -- per-chat ordering --------------------------------------------------------------------------------


async def test_a_chat_runs_its_updates_in_update_id_order_other_chats_run_alongside() -> None:
    done: list[tuple[int, int]] = []
    running: set[int] = set()
    overlapped = False

    async def process(item: Inbound) -> None:
        nonlocal overlapped
        assert item.chat_id not in running, "two updates of one chat ran at once"
        running.add(item.chat_id)
        overlapped = overlapped or len(running) > 1
        await asyncio.sleep(0.02)
        running.discard(item.chat_id)
        done.append((item.chat_id, item.update_id))

    queues = ChatQueues(process, order_window=0.05)
    for update_id in [14, 11, 13, 10, 12]:  # arrival order differs from Telegram's order
        queues.submit(Inbound(update_id, Kind.TEXT, 1, "1", "hi"))
        queues.submit(Inbound(update_id, Kind.TEXT, 2, "2", "hi"))
    await queues.drain(5)
    assert [u for chat, u in done if chat == 1] == [10, 11, 12, 13, 14]
    assert [u for chat, u in done if chat == 2] == [10, 11, 12, 13, 14]
    assert overlapped and not queues.busy


async def test_a_failing_update_does_not_stop_the_chat() -> None:
    done: list[int] = []

    async def process(item: Inbound) -> None:
        if item.update_id == 1:
            raise RuntimeError("boom")
        done.append(item.update_id)

    queues = ChatQueues(process, order_window=0)
    for update_id in (1, 2):
        queues.submit(Inbound(update_id, Kind.TEXT, 7, "7", "hi"))
    await queues.drain(5)
    assert done == [2]
