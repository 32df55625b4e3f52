"""The Pink chain extension (`seal0.call_chain_extension`, PINK.md 4).

`id >> 16` is the extension id (only 0 exists), `id & 0xffff` the function. Input is the SCALE
tuple of the arguments, decoded whole (trailing bytes are `DecodingFailed`); the answer is
`(status, SCALE output)`. The Query / Transaction split follows `mode.is_query()`, so
Estimating answers as Transaction. Functions not implemented yet trap with a message naming
them (they are listed in `NOT_IMPLEMENTED`), never with a made-up answer. Query-mode cache
calls use the injected worker-local `LocalCache`. HTTP in queries goes through the
injected `QueryBackend` with typed requests and responses; a backend error traps the call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pinkpipe.chain.scale import (
    CodecError,
    Reader,
    encode_bool,
    encode_bytes,
    encode_compact,
    encode_u32,
    encode_u64,
    encode_u128,
    encode_uint,
)
from pinkpipe.executor import events, keys
from pinkpipe.executor.cache import LocalCache
from pinkpipe.executor.code import store_code
from pinkpipe.executor.errors import (
    BAD_ORIGIN,
    OTHER,
    CodeRejected,
    DispatchFailure,
    fail,
    pink_error,
)
from pinkpipe.executor.events import PINK_EVENT_TOPIC

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
NOT_IMPLEMENTED = {24: "js_eval"}
CACHE_OP = 5  # PinkEvent::CacheOp; CacheOp::Set 0, SetExpiration 1, Remove 2


HTTP_ERRORS = [
    "InvalidUrl",
    "InvalidMethod",
    "InvalidHeaderName",
    "InvalidHeaderValue",
    "FailedToCreateClient",
    "Timeout",
    "NotAllowed",
    "TooManyRequests",
    "NetworkError",
    "ResponseTooLarge",
    "TooManyHeaders",
]
HTTP_ERRORS_TRAPPING = frozenset(HTTP_ERRORS[:6])  # InvalidUrl ... Timeout: runtime 1.0's
HTTP_TIMEOUT_MS = 10_000
MAX_HEADERS = 256
MAX_HTTP_RESPONSE = 2 * 1024 * 1024
MAX_BATCH = 5


@dataclass(frozen=True)
class HttpRequest:
    url: str
    method: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class HttpResponse:
    status_code: int
    reason_phrase: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def encode(self) -> bytes:
        return (
            encode_uint(self.status_code, 2)
            + encode_bytes(self.reason_phrase.encode())
            + _encode_headers(self.headers)
            + encode_bytes(self.body)
        )


class HttpRequestError(Exception):
    """One of pink's `HttpRequestError` variants, by name (SCALE index = position)."""

    def __init__(self, kind: str) -> None:
        if kind not in HTTP_ERRORS:
            raise ValueError(f"unknown HttpRequestError {kind!r}")
        super().__init__(kind)
        self.kind = kind
        self.index = HTTP_ERRORS.index(kind)


class QueryBackend(Protocol):
    """What only Query mode may touch: HTTP, wall clock, randomness, the worker key."""

    def http_request(self, request: HttpRequest, timeout_ms: int) -> HttpResponse: ...
    def millis_since_epoch(self) -> int: ...
    def random_bytes(self, length: int) -> bytes: ...
    def worker_pubkey(self) -> bytes: ...


def _encode_headers(headers: tuple[tuple[str, str], ...]) -> bytes:
    return encode_compact(len(headers)) + b"".join(
        encode_bytes(k.encode()) + encode_bytes(v.encode()) for k, v in headers
    )


def _string(r: Reader, what: str) -> str:
    start = r.offset
    raw = r.var_bytes(what)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise r.fail(what, "not UTF-8", start) from None


def read_http_request(r: Reader) -> HttpRequest:
    url, method = _string(r, "url"), _string(r, "method")
    headers = tuple(
        r.vec(lambda x: (_string(x, "header name"), _string(x, "header value")), "headers", 2)
    )
    return HttpRequest(url, method, headers, r.var_bytes("body"))


Handler = Callable[["Stack", Reader], tuple[int, bytes]]


def _ok(data: bytes) -> tuple[int, bytes]:
    return 0, data


def _option_bytes(value: bytes | None) -> bytes:
    return b"\x00" if value is None else b"\x01" + encode_bytes(value)


def _sig_type(r: Reader) -> int:
    start = r.offset
    sig_type = r.u8("SigType")
    if sig_type > keys.ECDSA:
        raise r.fail("SigType", f"invalid variant {sig_type}", start)
    return sig_type


class Extension:
    """Dispatches extension calls; `backend` serves Query-mode requests (None: refuse them)."""

    def __init__(
        self,
        backend: QueryBackend | None = None,
        latest_system_code: Callable[[], bytes] | None = None,
        local_cache: LocalCache | None = None,
    ) -> None:
        """`latest_system_code` answers pRuntime's ocall: the chain's `PinkSystemCode.1` at the
        block being processed (empty when there is none)."""
        self.backend = backend
        self.latest_system_code = latest_system_code
        self.local_cache = local_cache
        self.handlers: dict[int, Handler] = {
            1: self.http_request,
            2: self.sign,
            3: self.verify,
            4: self.derive_sr25519_key,
            5: self.get_public_key,
            6: self.cache_set,
            7: self.cache_set_expiration,
            8: self.cache_get,
            9: self.cache_remove,
            13: self.ecdsa_sign_prehashed,
            14: self.ecdsa_verify_prehashed,
            10: self.log,
            11: self.getrandom,
            12: self.is_in_transaction,
            15: self.system_contract_id,
            16: self.balance_of,
            17: self.worker_pubkey,
            18: self.untrusted_millis_since_unix_epoch,
            19: self.code_exists,
            20: self.import_latest_system_code,
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
        except keys.BadKey as e:
            raise DispatchFailure(OTHER, f"chain extension {function}: {e}") from e
        return answer

    def _query_backend(self, stack: Stack, what: str) -> QueryBackend:
        if self.backend is None:
            raise DispatchFailure(
                pink_error("UnknownChainExtensionFunction"), f"{what}: no backend"
            )
        return self.backend

    def _fetch(self, stack: Stack, request: HttpRequest, timeout_ms: int) -> HttpResponse:
        """The rules Phala applies around the actual request (`chain-extension/src/lib.rs`)."""
        if timeout_ms == 0:
            raise HttpRequestError("Timeout")
        if len(request.headers) > MAX_HEADERS:
            raise HttpRequestError("TooManyHeaders")
        response = self._query_backend(stack, "http_request").http_request(request, timeout_ms)
        if len(response.body) > MAX_HTTP_RESPONSE:
            raise HttpRequestError("ResponseTooLarge")
        return response

    def http_request(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        """Errors runtime 1.0 knew trap the call; later ones become a 524 "IO Error" response
        whose body is the error's name (kept for 1.0 compatibility)."""
        request = read_http_request(r)
        if not stack.context.is_query:
            return _ok(HTTP_UNAVAILABLE)
        try:
            return _ok(self._fetch(stack, request, HTTP_TIMEOUT_MS).encode())
        except HttpRequestError as e:
            if e.kind in HTTP_ERRORS_TRAPPING:
                raise DispatchFailure(OTHER, f"http_request {request.url}: {e.kind}") from e
            return _ok(HttpResponse(524, "IO Error", (), e.kind.encode()).encode())

    def batch_http_request(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        requests = r.vec(read_http_request, "requests", 4)
        timeout_ms = r.u64()
        if not stack.context.is_query:
            return HTTP_ERRORS.index("NotAllowed") + 1, b""
        if len(requests) > MAX_BATCH:
            return HTTP_ERRORS.index("TooManyRequests") + 1, b""
        results = []
        for request in requests:
            try:
                results.append(b"\x00" + self._fetch(stack, request, timeout_ms).encode())
            except HttpRequestError as e:
                results.append(b"\x01" + bytes([e.index]))
        return _ok(encode_compact(len(results)) + b"".join(results))

    def sign(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        sig_type, key, message = _sig_type(r), r.var_bytes("key"), r.var_bytes("message")
        if sig_type == keys.SR25519 and not stack.context.is_query:
            return _ok(encode_bytes(b""))  # randomized signatures never reach transactions
        return _ok(encode_bytes(keys.sign(sig_type, key, message)))

    def verify(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        sig_type, public = _sig_type(r), r.var_bytes("pubkey")
        message, signature = r.var_bytes("message"), r.var_bytes("signature")
        return _ok(encode_bool(keys.verify(sig_type, public, message, signature)))

    def derive_sr25519_key(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        salt = r.var_bytes("salt")
        cluster_key = stack.ledger.state.get(("Pink", "Key"))
        if cluster_key is None:
            raise DispatchFailure(pink_error("KeySeedMissing"), "no cluster key (set_key)")
        parts = [stack.frame.account, salt, b"keygen"]
        return _ok(encode_bytes(keys.derive_secret(cluster_key, parts)))

    def get_public_key(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        sig_type, key = _sig_type(r), r.var_bytes("key")
        return _ok(encode_bytes(keys.public_key(sig_type, key)))

    def ecdsa_sign_prehashed(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        key, message_hash = r.var_bytes("key"), r.hash32("Hash")
        return _ok(keys.ecdsa_sign_prehashed(key, message_hash))

    def ecdsa_verify_prehashed(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        signature, message_hash, public = (
            r.fixed(65, "signature"),
            r.hash32("Hash"),
            r.fixed(33, "pubkey"),
        )
        return _ok(encode_bool(keys.ecdsa_verify_prehashed(signature, message_hash, public)))

    def _cache_op(self, stack: Stack, op: bytes) -> None:
        """Transaction/Estimating: the write becomes a private PinkEvent::CacheOp."""
        data = bytes([CACHE_OP]) + op
        stack.ledger.emit(events.contract_emitted(stack.frame.account, data, (PINK_EVENT_TOPIC,)))

    def _local_cache(self, what: str) -> LocalCache:
        if self.local_cache is None:
            raise fail("NoChainExtension", f"{what}: no local cache configured for queries")
        return self.local_cache

    def cache_set(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        """Result<(), StorageQuotaExceeded>: status 1 when the contract's quota is full."""
        key, value = r.var_bytes("key"), r.var_bytes("value")
        if stack.context.is_query:
            stored = self._local_cache("cache_set").set(stack.frame.account, key, value)
            return (0, b"") if stored else (1, b"")
        self._cache_op(stack, b"\x00" + encode_bytes(key) + encode_bytes(value))
        return _ok(b"")

    def cache_set_expiration(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        key, expiration = r.var_bytes("key"), r.u64()
        if stack.context.is_query:
            self._local_cache("cache_set_expiration").set_expiration(
                stack.frame.account, key, expiration
            )
        else:
            self._cache_op(stack, b"\x01" + encode_bytes(key) + encode_u64(expiration))
        return _ok(b"")

    def cache_remove(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        key = r.var_bytes("key")
        if stack.context.is_query:
            removed = self._local_cache("cache_remove").remove(stack.frame.account, key)
            return _ok(_option_bytes(removed))
        self._cache_op(stack, b"\x02" + encode_bytes(key))
        return _ok(b"\x00")  # None outside queries

    def cache_get(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        key = r.var_bytes("cache key")
        if not stack.context.is_query:
            return _ok(b"\x00")  # None outside queries (PINK.md 4.2)
        return _ok(_option_bytes(self._local_cache("cache_get").get(stack.frame.account, key)))

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

    def import_latest_system_code(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        """System contract only: store the chain's latest system code, paid by `payer`."""
        payer = r.hash32("AccountId")
        if stack.frame.account != stack.ledger.system_contract():
            raise DispatchFailure(BAD_ORIGIN, "import_latest_system_code: not the system contract")
        if self.latest_system_code is None:
            raise fail("NoChainExtension", "import_latest_system_code: no system code source")
        code = self.latest_system_code()
        if not code:
            return _ok(b"\x00")
        try:
            code_hash = store_code(stack.ledger, stack.engine, payer, code, deterministic=True)
        except CodeRejected as e:
            raise DispatchFailure(e.error, f"import_latest_system_code: {e.reason}") from e
        return _ok(b"\x01" + code_hash)

    def runtime_version(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        return _ok(encode_u32(RUNTIME_VERSION[0]) + encode_u32(RUNTIME_VERSION[1]))

    def current_event_chain_head(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        number = stack.ledger.state.get(("Pink", "NextEventBlockNumber"), 0)
        last = stack.ledger.state.get(("Pink", "LastEventBlockHash"), bytes(32))
        return _ok(encode_u64(number) + last)

    def worker_sgx_quote(self, stack: Stack, r: Reader) -> tuple[int, bytes]:
        return _ok(b"\x00")  # None: no SGX here, in any mode
