"""The GRANDPA light client: trusts only genesis (or a checkpoint), proves everything else.

Pure state machine, no I/O: a service feeds it batches of headers with a justification, read
proofs and block bodies, and saves its state as bytes. See `validator.light_client`.
"""

from pinkpipe.validator.authority import AuthoritySet, PendingChange, change_signal
from pinkpipe.validator.errors import (
    AlreadyFinalized,
    BadBody,
    BadBootstrap,
    BadProof,
    BadSignature,
    BadState,
    BadVotesAncestry,
    BelowThreshold,
    BrokenAncestry,
    InvalidAuthoritySet,
    InvalidJustification,
    LightClientError,
    NotContiguous,
    SetChangeViolation,
    UnknownAuthority,
    UnknownBlock,
)
from pinkpipe.validator.justification import VoterSet, validate_commit, verify_justification
from pinkpipe.validator.light_client import (
    GENESIS_KEYS,
    ImportResult,
    LightClient,
    genesis_authorities,
    import_batch,
    state_from_checkpoint,
    state_from_genesis_proof,
    state_from_genesis_storage,
)
from pinkpipe.validator.state import DEFAULT_MAX_RECENT, FinalizedBlock, LightClientState
from pinkpipe.validator.storage import verify_body, verify_storage_proof

__all__ = [
    "DEFAULT_MAX_RECENT",
    "GENESIS_KEYS",
    "AlreadyFinalized",
    "AuthoritySet",
    "BadBody",
    "BadBootstrap",
    "BadProof",
    "BadSignature",
    "BadState",
    "BadVotesAncestry",
    "BelowThreshold",
    "BrokenAncestry",
    "FinalizedBlock",
    "ImportResult",
    "InvalidAuthoritySet",
    "InvalidJustification",
    "LightClient",
    "LightClientError",
    "LightClientState",
    "NotContiguous",
    "PendingChange",
    "SetChangeViolation",
    "UnknownAuthority",
    "UnknownBlock",
    "VoterSet",
    "change_signal",
    "genesis_authorities",
    "import_batch",
    "state_from_checkpoint",
    "state_from_genesis_proof",
    "state_from_genesis_storage",
    "validate_commit",
    "verify_body",
    "verify_justification",
    "verify_storage_proof",
]
