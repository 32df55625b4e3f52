"""The runtime's errors, shaped as the chain reports them (`sp_runtime::DispatchError`).

`pinkpipe.chain.errors` (the project's error root) is not on main yet, so these derive from
`Exception`; `DispatchFailure` is what a contract execution ends with, `CodeRejected` what an
upload check raises. Indices: PINK.md section 6.2 (metadata 1.2's error enums).
"""

from __future__ import annotations

from dataclasses import dataclass

CONTRACTS_PALLET = 4
PINK_PALLET = 5

CONTRACTS_ERRORS = [
    "InvalidSchedule",
    "InvalidCallFlags",
    "OutOfGas",
    "OutputBufferTooSmall",
    "TransferFailed",
    "MaxCallDepthReached",
    "ContractNotFound",
    "CodeTooLarge",
    "CodeNotFound",
    "CodeInfoNotFound",
    "OutOfBounds",
    "DecodingFailed",
    "ContractTrapped",
    "ValueTooLarge",
    "TerminatedWhileReentrant",
    "InputForwarded",
    "RandomSubjectTooLong",
    "TooManyTopics",
    "NoChainExtension",
    "XCMDecodeFailed",
    "DuplicateContract",
    "TerminatedInConstructor",
    "ReentranceDenied",
    "StorageDepositNotEnoughFunds",
    "StorageDepositLimitExhausted",
    "CodeInUse",
    "ContractReverted",
    "CodeRejected",
    "Indeterministic",
    "MigrationInProgress",
    "NoMigrationPerformed",
    "MaxDelegateDependenciesReached",
    "DelegateDependencyNotFound",
    "DelegateDependencyAlreadyExists",
    "CannotAddSelfAsDelegateDependency",
]
PINK_ERRORS = [
    "UnknownChainExtensionId",
    "UnknownChainExtensionFunction",
    "ContractIoBufferOverflow",
    "KeySeedMissing",
    "DeriveKeyFailed",
    "SystemContractMissing",
]
TOKEN_ERRORS = [
    "FundsUnavailable",
    "OnlyProvider",
    "BelowMinimum",
    "CannotCreate",
    "UnknownAsset",
    "Frozen",
    "Unsupported",
    "CannotCreateHold",
    "NotExpendable",
    "Blocked",
]

# sp_runtime::DispatchError variant indices.
DISPATCH_OTHER, DISPATCH_BAD_ORIGIN, DISPATCH_MODULE, DISPATCH_TOKEN = 0, 2, 3, 7


@dataclass(frozen=True)
class DispatchError:
    """One `DispatchError` value; `encode()` gives its SCALE bytes (Other drops its message)."""

    variant: int
    pallet: int = 0
    index: int = 0
    name: str = ""

    def encode(self) -> bytes:
        if self.variant == DISPATCH_MODULE:
            return bytes([DISPATCH_MODULE, self.pallet, self.index, 0, 0, 0])
        if self.variant == DISPATCH_TOKEN:
            return bytes([DISPATCH_TOKEN, self.index])
        return bytes([self.variant])

    def __str__(self) -> str:
        pallet = {CONTRACTS_PALLET: "Contracts", PINK_PALLET: "Pink"}.get(self.pallet, "")
        if self.variant == DISPATCH_MODULE:
            return f"{pallet}::{self.name}"
        if self.variant == DISPATCH_TOKEN:
            return f"Token::{self.name}"
        return self.name


def contracts_error(name: str) -> DispatchError:
    return DispatchError(DISPATCH_MODULE, CONTRACTS_PALLET, CONTRACTS_ERRORS.index(name), name)


def pink_error(name: str) -> DispatchError:
    return DispatchError(DISPATCH_MODULE, PINK_PALLET, PINK_ERRORS.index(name), name)


def token_error(name: str) -> DispatchError:
    return DispatchError(DISPATCH_TOKEN, index=TOKEN_ERRORS.index(name), name=name)


OTHER = DispatchError(DISPATCH_OTHER, name="Other")
BAD_ORIGIN = DispatchError(DISPATCH_BAD_ORIGIN, name="BadOrigin")


class DispatchFailure(Exception):
    """An execution aborted with `error`; `detail` says what and where for humans."""

    def __init__(self, error: DispatchError, detail: str = "") -> None:
        super().__init__(f"{error}: {detail}" if detail else str(error))
        self.error = error
        self.detail = detail
        self.from_callee = False  # set when it escaped a callee frame (ErrorOrigin::Callee)


def fail(name: str, detail: str = "") -> DispatchFailure:
    """A pallet-contracts error by name, e.g. `raise fail("OutOfGas", "in seal0.call")`."""
    return DispatchFailure(contracts_error(name), detail)


class CodeRejected(Exception):
    """Code refused at upload (`Contracts::CodeRejected` and friends); the reason says why."""

    def __init__(self, reason: str, error: str = "CodeRejected") -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = contracts_error(error)


class ExecutorStateError(Exception):
    """Misuse of the runtime state (e.g. committing with no open snapshot): a bug on our side."""
