"""WeChat Official Account channel; credentials.yml names it `integrations.channels.wechat.WeChatInput`."""

from integrations.channels.wechat.inbound import WeChatInput

__all__ = ["WeChatInput"]
