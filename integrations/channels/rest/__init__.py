"""REST channel for tests, scripts and server-to-server integrations; credentials.yml names it
`integrations.channels.rest.RestInput`."""

from integrations.channels.rest.inbound import RestInput

__all__ = ["RestInput"]
