"""Imports every module that declares console tables, so the schema comparison of bot.log_migrations sees them all."""

from __future__ import annotations

import console.index  # noqa: F401
import console.projection  # noqa: F401
import console.review  # noqa: F401
import console.takeover  # noqa: F401
import console.users  # noqa: F401
