"""zhub: the Python client of the zhub bus (proto/PROTOCOL.md).

    from zhub import Client, events
    from zhub.ids import derive_id

    with Client(name="my-agent") as bus:            # $ZHUB_BROKER
        bus.join("my-agent", ["conversation.message"], credit=8)
        while True:
            delivery = bus.receive(timeout=1.0)
            if delivery is None:
                continue
            message = delivery.event()               # events.ConversationMessage
            stage = events.ConversationStageChanged(
                bird_contact_id=message.bird_contact_id,
                conversation_id=message.conversation_id, stage="qualified")
            bus.publish(stage.envelope(id=derive_id("my-agent:", delivery.envelope.id),
                                       source="my-agent"))
            delivery.ack()

See clients/python/README.md.
"""
from . import catalogue, events, ids, security
from .security import Curve
from .client import DEFAULT_ENDPOINT, PROTO_VERSION, Client, Delivery, PubAck
from .envelope import Envelope, pattern_valid, topic_match, topic_valid
from .errors import CatalogueError, InvalidMessage, NotConfirmed, Rejected, VersionRefused, \
    ZhubError

__version__ = "1.0.0"

__all__ = ["Client", "Curve", "security", "Delivery", "PubAck", "Envelope", "events", "catalogue", "ids",
           "ZhubError", "InvalidMessage", "CatalogueError", "Rejected", "NotConfirmed",
           "VersionRefused", "topic_valid", "pattern_valid", "topic_match", "PROTO_VERSION",
           "DEFAULT_ENDPOINT", "__version__"]
