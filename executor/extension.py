"""The Pink chain extension (`seal0.call_chain_extension`, PINK.md 4).

`id >> 16` is the extension id (only 0 exists), `id & 0xffff` the function. Input is the SCALE
tuple of the arguments, decoded whole (trailing bytes are `DecodingFailed`); the answer is
`(status, SCALE output)`. The Query / Transaction split follows `mode.is_query()`, so
Estimating answers as Transaction. Functions not implemented yet trap with a message naming
them (they are listed in `NOT_IMPLEMENTED`), never with a made-up answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from pinkpipe.chain.scale import (
    CodecError,
    Reader,
    encode_bool,
    encode_bytes,
    encode_u32,
    encode_u64,
    encode_u128,
    encode_uint,
)
from pinkpipe.executor.errors import DispatchFailure, fail, pink_error

if TYPE_CHECKING:
    from pinkpipe.executor.stack import Stack

LOG = logging.getLogger("pinkpipe.executor.contract")
_LOG_LEVELS = {
    1: logging.ERROR,
    2: logging.WARNING,
    3: logging.INFO,
    4: logging.DEBUG,
    5: logging.DEBUG,
}
RUNTIME_VERSION = (1, 2)
HTTP_UNAVAILABLE = (
    encode_uint(523, 2)
    + encode_bytes(b"API Unavailable")
    + b"\x00"
    + encode_bytes(b"HTTP request is not supported in transaction")
)
NOT_ALLOWED_STATUS = 7  # HttpRequestError::NotAllowed (6) + 1
NOT_IMPLEMENTED = {
    2: "sign",
    3: "verify",
    4: "derive_sr25519_key",
    5: "get_public_key",
    6: "cache_set",
    7: "cache_set_expiration",
    9: "cache_remove",
    13: "ecdsa_sign_prehashed",
    14: "ecdsa_verify_prehashed",
    20: "import_latest_system_code",
    24: "js_eval",
}


class QueryBackend(Protocol):
    """What only Query mode may touch: HTTP, wall clock, randomness, the worker key."""

    def http_request(self, request: bytes) -> bytes: ...
    def millis_since_epoch(self) -> int: ...
    def random_bytes(self, length: int) -> bytes: ...
    def worker_pubkey(self) -> bytes: ...


Handler = Callable[["Stack", Reader], tuple[int, bytes]]


def _ok(data: bytes) -> tuple[int, bytes]:
    return 0, data


class Extension:
    """Dispatches extension calls; `backend` serves Query-mode requests (None: refuse them)."""

    def __init__(self, backend: QueryBackend | None = None) -> None:
        self.backend = backend
        self.handlers: dict[int, Handler] = {
            1: self.http_request,
            8: self.cache_get,
            10: self.log,
            11: self.getrandom,
            12: self.is_in_transaction,
            15: self.system_contract_id,
            16: self.balance_of,
            17: self.worker_pubkey,
            18: self.untrusted_millis_since_unix_epoch,
            19: self.code_exists,
            21: self.runtime_version,
            22: self.batch_http_request,
            23: self.current_event_chain_head,
            25: self.worker_sgx_quote,
        }

    def dispatch(self, stack: Stack, func_id: int, data: bytes) -> tuple[int, bytes]:
        if func_id >> 16:
            raise DispatchFailure(pink_error("UnknownChainExtensionId"), f"id 0x{func_id:08x}")
        function = func_id & 0xFFFF
        handler = self.handlers.get(function)
        if handler is None:
            if function in NOT_IMPLEMENTED:
                raise fail("NoChainExtension", f"{NOT_IMPLEMENTED[function]} is not implemented")
            raise DispatchFailure(
                pink_error("UnknownChainExtensionFunction"), f"function {function}"
            )
        reader = Reader(data)
        try:
            answer = handler(stack, reader)
            reader.finish("chain extension input")
        except CodecError as e:
            raise fail("DecodingFailed", f"chain extension {function}: {e}") from e
        return answer

    def _query_backend(self, stack: Stack, what: str) -> QueryBackend:
        if self.backend is None:
            raise DispatchFailure(
                pink_error("UnknownChainExtensionFunction"), f"{what}: no backend"
            )
        return self.backend

    def http_request(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        request = r.data[r.offset :]
        r.offset = len(r.data)
        if not stack.context.is_query:
            return _ok(HTTP_UNAVAILABLE)
        return _ok(self._query_backend(stack, "http_request").http_request(request))

    def batch_http_request(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        r.offset = len(r.data)
        if not stack.context.is_query:
            return NOT_ALLOWED_STATUS, b""
        raise fail("NoChainExtension", "batch_http_request in query mode is not implemented")

    def cache_get(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        r.var_bytes("cache key")
        if stack.context.is_query:
            raise fail("NoChainExtension", "cache_get in query mode is not implemented")
        return _ok(b"\x00")  # None outside queries (PINK.md 4.2)

    def log(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        level = r.u8("log level")
        message = r.var_bytes("log message").decode("utf-8", "replace")
        LOG.log(
            _LOG_LEVELS.get(level, logging.ERROR), "0x%s: %s", stack.frame.account.hex(), message
        )
        return _ok(b"")

    def getrandom(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        length = r.u8("length")
        if not stack.context.is_query:
            return _ok(encode_bytes(b""))
        return _ok(encode_bytes(self._query_backend(stack, "getrandom").random_bytes(length)))

    def is_in_transaction(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        return _ok(encode_bool(not stack.context.is_query))

    def system_contract_id(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        system = stack.ledger.system_contract()
        if system is None:
            raise DispatchFailure(pink_error("SystemContractMissing"), "no system contract")
        return _ok(system)

    def balance_of(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        account = stack.ledger.account(r.hash32("AccountId"))
        return _ok(encode_u128(account.total) + encode_u128(account.free))

    def worker_pubkey(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        if not stack.context.is_query:
            return _ok(bytes(32))
        return _ok(self._query_backend(stack, "worker_pubkey").worker_pubkey())

    def untrusted_millis_since_unix_epoch(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        if not stack.context.is_query:
            return _ok(encode_u64(0))
        return _ok(encode_u64(self._query_backend(stack, "clock").millis_since_epoch()))

    def code_exists(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        code_hash = r.hash32("Hash")
        sidevm = r.boolean()
        if sidevm:
            return _ok(
                encode_bool(stack.ledger.state.get(("Pink", "SidevmCodes", code_hash)) is not None)
            )
        return _ok(encode_bool(stack.ledger.code_info(code_hash) is not None))

    def runtime_version(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        return _ok(encode_u32(RUNTIME_VERSION[0]) + encode_u32(RUNTIME_VERSION[1]))

    def current_event_chain_head(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        number = stack.ledger.state.get(("Pink", "NextEventBlockNumber"), 0)
        last = stack.ledger.state.get(("Pink", "LastEventBlockHash"), bytes(32))
        return _ok(encode_u64(number) + last)

    def worker_sgx_quote(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        return _ok(b"\x00")  # None: no SGX here, in any mode
