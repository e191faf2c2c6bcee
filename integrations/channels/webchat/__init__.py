"""Web chat page and endpoint served by the Rasa server; credentials.yml names it
`integrations.channels.webchat.WebChatInput`."""

from integrations.channels.webchat.inbound import WebChatInput

__all__ = ["WebChatInput"]
