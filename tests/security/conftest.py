"""Helpers for the security tests: a stand-in for Rasa that records what reached it (serve the channel with
tests/sanic_server.py)."""

from __future__ import annotations

from rasa.core.channels.channel import UserMessage


class RecordingRasa:
    """Stands in for Rasa: remembers every UserMessage and answers with a button, as the assistant often does."""

    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        buttons = [{"title": "确认", "payload": "/affirm"},
                   {"title": "报名第1场", "payload": '/job_fair_register{"index":1}'}]
        await message.output_channel.send_text_with_buttons(message.sender_id, f"收到：{message.text}", buttons)
