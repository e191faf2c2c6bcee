"""What each kind of WeChat message or event becomes: a Rasa turn, a fixed polite reply, or nothing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from wechatpy.messages import BaseMessage

from integrations.channels.common import TOO_LONG_TEXT, UNSUPPORTED_TEXT, too_long
from integrations.channels.wechat.menu import MenuConfig

CITY_GAZETTEER = Path(__file__).resolve().parents[3] / "nlu" / "gazetteers" / "city.yml"

WELCOME_TEXT = "感谢您关注政务服务助手！"
VOICE_NOT_RECOGNISED_TEXT = (
    "抱歉，我没能听清您的语音。请您直接输入文字，例如“申请租房补贴”或“日本入境政策”，我马上为您办理。"
)
LOCATION_TEXT = (
    "已收到您发送的位置，谢谢！如需按城市查询招聘会或岗位，请直接输入城市名称，例如“杭州的招聘会”。"
)
UNKNOWN_MENU_TEXT = "抱歉，该菜单暂时无法使用。请您直接输入想办理的事项，或回复“帮助”查看我能办理的业务。"


@dataclass(frozen=True)
class Ignore:
    """Answer "success" and send nothing (unsubscribe, link clicks, reported locations, ...)."""


@dataclass(frozen=True)
class Reply:
    """A fixed reply without a Rasa turn."""

    text: str


@dataclass(frozen=True)
class Turn:
    """A Rasa turn; `typed` texts may be a numbered-menu choice; `prefix` goes before the bot's first reply."""

    text: str
    typed: bool = False
    prefix: str = ""


Route = Ignore | Reply | Turn


@cache
def _city_names() -> list[tuple[str, str]]:
    """(written form, canonical city), longest first, Chinese forms only (a location label is Chinese)."""
    data = yaml.safe_load(CITY_GAZETTEER.read_text("utf-8"))
    forms = []
    for value in data.get("values", []):
        for form in [value["name"], *value.get("aliases", [])]:
            if re.fullmatch(r"[\u4e00-\u9fff]{2,}", str(form)):
                forms.append((str(form), value["name"]))
    return sorted(forms, key=lambda pair: -len(pair[0]))


def city_in(label: str) -> str | None:
    """The city a location label ("浙江省杭州市西湖区文三路") is in, when it is a city we know."""
    found = [(label.find(form), city) for form, city in _city_names() if form in label]
    return min(found)[1] if found else None


def _scene(menu: MenuConfig, scene: str | None) -> str | None:
    return menu.scenes.get(str(scene or "").removeprefix("qrscene_"))


def route(message: BaseMessage, menu: MenuConfig) -> Route:
    kind = str(message._data.get("MsgType", "")).lower()  # unknown events parse as UnknownMessage: use the raw type
    if kind == "text":
        return _typed(str(message.content or "").strip()) if message.content else Reply(UNSUPPORTED_TEXT)
    if kind == "voice":
        recognised = str(message.recognition or "").strip().rstrip("。.!！")
        return _typed(recognised) if recognised else Reply(VOICE_NOT_RECOGNISED_TEXT)
    if kind == "location":
        city = city_in(str(message.label or ""))
        if city:
            return Turn("/inform" + json.dumps({"city": city}, ensure_ascii=False))
        return Reply(LOCATION_TEXT)
    if kind == "event":
        return _route_event(message, menu)
    return Reply(UNSUPPORTED_TEXT)  # image, video, shortvideo, link, file, mini-program cards, ...


def _typed(text: str) -> Route:
    # The length cap comes before anything looks at the text (menu choice, NLU, masking, the conversation log).
    return Reply(TOO_LONG_TEXT) if too_long(text) else Turn(text, typed=True)


def _route_event(message: BaseMessage, menu: MenuConfig) -> Route:
    event = str(message._data.get("Event", "")).lower()  # wechatpy has rewritten it to subscribe_scan if scanned
    if event in ("subscribe", "subscribe_scan"):
        scene = _scene(menu, getattr(message, "scene_id", None))
        return Turn(scene or "/greet", prefix=WELCOME_TEXT)
    if event == "scan":
        return Turn(_scene(menu, message.scene_id) or "/greet")
    if event == "click":
        payload = menu.clicks.get(str(message.key or ""))
        return Turn(payload) if payload else Reply(UNKNOWN_MENU_TEXT)
    return Ignore()  # unsubscribe, view, location reports, template/mass-send reports, ...
