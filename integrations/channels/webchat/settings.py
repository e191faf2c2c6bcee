"""Web chat settings. The page needs no secrets and reads no variable of its own from the environment (it shares
CHANNEL_RATE_LIMIT with every channel, common.py): what is set here is fixed, where its files are and what a request
may hold. The channel therefore always loads."""

from __future__ import annotations

import re
from pathlib import Path

CHANNEL = "webchat"
STATIC_DIR = Path(__file__).with_name("static")  # the page: plain HTML, CSS and JavaScript, no framework, no CDN
MAX_BODY_BYTES = 16 * 1024  # 2,000 Chinese characters are 6 KB of UTF-8, even \u-escaped they stay under 16 KB
# The browser sends a random UUID; a short or free-form id could be guessed and continue someone else's session.
SENDER_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
