"""The bus: how stages meet. Every stage reaches NATS JetStream only through this package.

- `streams`: the bus's shape (stream and subject names, owners, limits, message ids);
- `records`: the versioned wire records every stage encodes and decodes;
- `client`: the connection (`Bus`), outages, message look-ups;
- `publisher`: the ordered, exactly-once publisher;
- `consumer`: the durable ordered consumer;
- `checkpoints`: each stage's authenticated checkpoint and status in KV;
- `nats_server`: the embedded nats-server of `pinkpipe run` and the tests.
"""

from pinkpipe.bus.checkpoints import CheckpointStore, load_secret
from pinkpipe.bus.client import Bus, BusError, BusUnavailable, RecordTooLarge, StoredMessage
from pinkpipe.bus.config import BusSettings, mask_url
from pinkpipe.bus.consumer import ConsumerSpec, Delivery, OrderedConsumer
from pinkpipe.bus.publisher import OrderedPublisher, PublishRefused
from pinkpipe.bus.streams import (
    msg_id,
    raw_spec,
    raw_stream,
    raw_subject,
    verified_spec,
    verified_stream,
    verified_subject,
)

__all__ = [
    "Bus",
    "BusError",
    "BusSettings",
    "BusUnavailable",
    "CheckpointStore",
    "ConsumerSpec",
    "Delivery",
    "OrderedConsumer",
    "OrderedPublisher",
    "PublishRefused",
    "RecordTooLarge",
    "StoredMessage",
    "load_secret",
    "mask_url",
    "msg_id",
    "raw_spec",
    "raw_stream",
    "raw_subject",
    "verified_spec",
    "verified_stream",
    "verified_subject",
]
