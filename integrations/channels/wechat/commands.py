"""`python -m integrations.channels.wechat.commands menu [--file F] [--dry-run]`: the Official Account's command line.

  menu  create the custom menu from menu.yml (beside this file)

Uses WECHAT_APP_ID, WECHAT_APP_SECRET and WECHAT_API_BASE_URL (and REDIS_URL, to share the access_token with the
running channel: a separate token fetch would invalidate the channel's). `--dry-run` prints the body instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from wechatpy.exceptions import WeChatClientException

from bot.settings import load_dotenv
from integrations.channels.wechat.api import WeChatApi
from integrations.channels.wechat.menu import MENU_FILE, load_menu
from integrations.channels.wechat.redact import redact
from integrations.channels.wechat.settings import WeChatSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m integrations.channels.wechat.commands", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    menu = commands.add_parser("menu", help="创建微信公众号自定义菜单（读取 menu.yml）")
    menu.add_argument("--file", type=Path, default=MENU_FILE, help="菜单文件（默认 %(default)s）")
    menu.add_argument("--dry-run", action="store_true", help="只打印将要提交的菜单，不调用接口")
    options = parser.parse_args(argv)
    return create_menu(options)


def create_menu(options: argparse.Namespace) -> int:
    try:
        menu = load_menu(options.file)
    except (OSError, ValueError) as error:
        print(f"菜单文件有误：{error}", file=sys.stderr)
        return 2
    if options.dry_run:
        print(json.dumps(menu.body, ensure_ascii=False, indent=2))
        return 0
    load_dotenv()
    config = WeChatSettings.from_env()
    missing = [m for m in config.missing if m != "WECHAT_TOKEN"]  # the menu API needs no callback token
    if missing:
        print(f"缺少环境变量：{', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        WeChatApi.from_config(config).create_menu(menu.body)
    except (WeChatClientException, OSError) as error:
        print(f"创建菜单失败：{redact(str(error))}", file=sys.stderr)  # requests errors quote the URL and its token
        return 1
    entries = sum(len(b.get("sub_button", [b])) for b in menu.body["button"])
    print(f"已创建自定义菜单：{len(menu.body['button'])} 个一级菜单，{entries} 个菜单项。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
