"""The message object consumers receive."""

from realtime.layers.config import LayerConfig
from realtime.layers.core import SyncChannelLayer
from realtime.message import Message


def test_message_reads_like_its_content_and_names_its_channels() -> None:
    layer = SyncChannelLayer(LayerConfig(url="memory://message-tests"))
    reply = layer.new_channel("websocket.send")
    message = Message({"text": "hi", "reply_channel": reply}, "websocket.receive", layer)
    assert message["text"] == "hi" and "text" in message and len(message) == 2
    assert message.channel.name == "websocket.receive"
    assert message.channel_layer is layer
    assert message.reply_channel is not None
    message.reply_channel.send({"text": "back"})
    assert layer.receive(reply, timeout=1) == {"text": "back"}
    copy = message.copy()
    copy.content["text"] = "changed"
    assert message["text"] == "hi"
    assert Message({}, "x", layer).reply_channel is None
    layer.flush()
    layer.close()
