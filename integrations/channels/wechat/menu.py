"""The custom menu file: WeChat's menu body for the API, and which payload each CLICK key or QR scene sends."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

MENU_FILE = Path(__file__).resolve().with_name("menu.yml")

# WeChat's documented limits for custom menus.
MAX_TOP, MAX_SUB = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES, KEY_BYTES = 16, 60, 128


@dataclass(frozen=True)
class MenuConfig:
    body: dict[str, Any]  # exactly what menu/create expects
    clicks: dict[str, str] = field(default_factory=dict)  # CLICK EventKey → Rasa payload
    scenes: dict[str, str] = field(default_factory=dict)  # QR scene value → Rasa payload


def _entry(raw: dict[str, Any], name_limit: int, clicks: dict[str, str]) -> dict[str, Any]:
    name = str(raw.get("name", ""))
    if not name or len(name.encode()) > name_limit:
        raise ValueError(f"menu name {name!r} is empty or longer than {name_limit} bytes")
    entry = {k: v for k, v in raw.items() if k != "payload"}
    if raw.get("type") == "click":
        key, payload = str(raw.get("key", "")), raw.get("payload")
        if not key or len(key.encode()) > KEY_BYTES or key in clicks:
            raise ValueError(f"menu key {key!r} is empty, too long or repeated")
        if not isinstance(payload, str) or not payload.startswith("/"):
            raise ValueError(f"menu key {key!r} needs a payload such as /help")
        clicks[key] = payload
    elif raw.get("type") == "view" and not raw.get("url"):
        raise ValueError(f"menu entry {name!r} of type view needs a url")
    return entry


def parse_menu(data: dict[str, Any]) -> MenuConfig:
    """Validate the menu against WeChat's limits (a bad file fails here, not at the API)."""
    clicks: dict[str, str] = {}
    top = data.get("button") or []
    if not 1 <= len(top) <= MAX_TOP:
        raise ValueError(f"the menu needs 1 to {MAX_TOP} top-level entries")
    buttons = []
    for raw in top:
        subs = raw.get("sub_button")
        if subs is None:
            buttons.append(_entry(raw, TOP_NAME_BYTES, clicks))
            continue
        if not 1 <= len(subs) <= MAX_SUB:
            raise ValueError(f"menu {raw.get('name')!r} needs 1 to {MAX_SUB} sub-entries")
        entry = _entry({"name": raw.get("name")}, TOP_NAME_BYTES, clicks)
        entry["sub_button"] = [_entry(sub, SUB_NAME_BYTES, clicks) for sub in subs]
        buttons.append(entry)
    scenes = {str(k): str(v) for k, v in (data.get("scenes") or {}).items()}
    return MenuConfig(body={"button": buttons}, clicks=clicks, scenes=scenes)


@cache
def load_menu(path: Path = MENU_FILE) -> MenuConfig:
    return parse_menu(yaml.safe_load(path.read_text("utf-8")) or {})
