"""Security tests: each module is one attack, run against the real code (see issue 8 and docs/security.md)."""
