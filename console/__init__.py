"""Operator console: review conversation logs, take over conversations, improve the assistant (port 8002)."""
