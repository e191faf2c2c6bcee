"""Container health check without curl (python:3.10-slim has none): `python deploy/docker/healthcheck.py URL`.

Exit 0 when URL answers 2xx within the timeout, 1 otherwise. `--token-env NAME` sends
`Authorization: Bearer $NAME` (Rasa's /status is guarded by bot/api_guard.py and answers 409 until a model is
loaded, so it is the Rasa server's readiness). Standard library only: it starts in well under a second.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--token-env", help="environment variable holding a bearer token")
    parser.add_argument("--timeout", type=float, default=4.0)
    options = parser.parse_args(argv)
    request = urllib.request.Request(options.url)
    if options.token_env:
        token = os.environ.get(options.token_env, "").strip()
        if not token:
            print(f"{options.token_env} is not set", file=sys.stderr)
            return 1
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=options.timeout) as answer:  # noqa: S310 - our own URL
            return 0 if 200 <= answer.status < 300 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"{options.url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
