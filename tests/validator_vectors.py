"""Real-vector fixtures for the light-client tests and bench: Rococo checkpoints and batches."""

from __future__ import annotations

from pinkpipe.chain.grandpa import Authority, ScheduledChange, grandpa_logs
from pinkpipe.chain.header import Header
from pinkpipe.validator import DEFAULT_MAX_RECENT, LightClient
from tests.vectors import RococoBatch, rococo_register_header

ROCOCO_GENESIS = bytes.fromhex("6408de7737c59c238890533af25896a2c20608d8b380bb01029acb392781063e")


def rococo_set(set_id: int) -> tuple[Authority, ...]:
    """The 68 authorities the register header's ScheduledChange (delay 0) hands over to."""
    (change,) = grandpa_logs(rococo_register_header(set_id))
    assert isinstance(change, ScheduledChange) and change.delay == 0
    return change.next_authorities


def rococo_client(
    set_id: int, checkpoint_set_id: int | None = None, max_recent: int = DEFAULT_MAX_RECENT
) -> LightClient:
    """Checkpoint = the register header + the set it hands over to, with `set_id` (or another
    set id, to prove a wrong one fails)."""
    return LightClient.from_checkpoint(
        rococo_register_header(set_id),
        rococo_set(set_id),
        set_id if checkpoint_set_id is None else checkpoint_set_id,
        genesis_hash=ROCOCO_GENESIS,
        max_recent=max_recent,
    )


def headers_of(batch: RococoBatch) -> list[Header]:
    """A recorded batch's headers in chain order, the justified one last."""
    return [*batch.headers, batch.justified_header]
