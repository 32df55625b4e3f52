"""The devnet's WebSocket JSON-RPC 2.0 server: the node API the relayer and Substrate tools use.

Answers have the JSON shapes a Substrate node gives (checked against polkadot-sdk's RPC
types): numbers in headers are hex strings, digest logs the hex of each encoded item, a block's
`justifications` a list of `[engine id as a byte array, justification as a byte array]` (serde
of `Vec<(ConsensusEngineId, Vec<u8>)>`), subscription notifications
`{"jsonrpc":"2.0","method":"chain_finalizedHead","params":{"subscription":id,"result":...}}`.
Errors use JSON-RPC's codes (-32700 parse, -32600 invalid request, -32601 unknown method,
-32602 bad params) and the node's own (author 1xxx, state 4002/4003, GRANDPA 4 for a block
not yet finalized).
Subscription ids are counters, so a replayed session gets byte-identical answers.

Transport faults (`TransportFaults`) make the server misbehave like a flaky node: drop the
connection on every Nth request or when block B is produced, stall answers for S seconds
(always, or once block B is produced), answer out of order. The server is an adapter: the
chain (`DevChain`) and the extrinsic pool hold all logic, and everything runs on one asyncio
loop, which is the only thread touching the chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

from scalecodec.utils.ss58 import ss58_decode
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from pinkpipe.chain.hashing import blake2_256
from pinkpipe.chain.header import GRANDPA_ENGINE_ID, Header
from pinkpipe.chain.hextext import HexError, hex_of, parse_hex
from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetError
from pinkpipe.devnet.extrinsics import ExtrinsicPool
from pinkpipe.devnet.jsonrpc import JsonRpcError

T = TypeVar("T")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
STATE_CLIENT_ERROR = 4003
STATE_INVALID_COUNT = 4002
GRANDPA_PROVE_FINALITY = 4
KEYS_PAGED_MAX = 1000
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
SS58_FORMAT = 30
"""`System::SS58Prefix` of the devnet's runtime (Phala)."""
GRANDPA_ENGINE = list(GRANDPA_ENGINE_ID)


def bad_params(detail: str) -> JsonRpcError:
    return JsonRpcError(INVALID_PARAMS, "Invalid params", detail)


def _package_version() -> str:
    try:
        return version("pinkpipe")
    except PackageNotFoundError:
        return "0.0.0"


# --- JSON shapes -------------------------------------------------------------------------------


def header_json(header: Header) -> dict[str, Any]:
    return {
        "parentHash": hex_of(header.parent_hash),
        "number": hex(header.number),
        "stateRoot": hex_of(header.state_root),
        "extrinsicsRoot": hex_of(header.extrinsics_root),
        "digest": {"logs": [hex_of(item.encode()) for item in header.digest]},
    }


def hex_param(value: Any, what: str, size: int | None = None) -> bytes:
    """A `0x` hex parameter; bad input is the node's invalid-params error naming `what`."""
    try:
        return parse_hex(value, size=size)
    except HexError as e:
        raise bad_params(f"{what} is {e}") from None


def _block_number(value: Any) -> int:
    """`NumberOrHex`: a JSON number or a hex string, within u32."""
    if isinstance(value, bool):
        raise bad_params(f"block number must be a number or hex string, got {value!r}")
    if isinstance(value, str):
        if not value.startswith("0x"):
            raise bad_params(f"block number must be a number or hex string, got {value!r}")
        try:
            value = int(value[2:], 16)
        except ValueError:
            raise bad_params(f"block number is not valid hex: {value!r}") from None
    if not isinstance(value, int) or value < 0:
        raise bad_params(f"block number must be a non-negative integer, got {value!r}")
    if value > 2**32 - 1:
        raise bad_params(f"`{value}` > u32::MAX, the max block number is u32::MAX.")
    return value


def _account(value: Any) -> bytes:
    if isinstance(value, str) and value.startswith("0x"):
        return hex_param(value, "account", 32)
    if not isinstance(value, str):
        raise bad_params(f"account must be an SS58 address or 0x hex, got {value!r}")
    try:
        return bytes.fromhex(ss58_decode(value))
    except ValueError as e:
        raise bad_params(f"account {value!r} is not an SS58 address: {e}") from None


# --- transport faults ----------------------------------------------------------------------------


@dataclass
class TransportFaults:
    """How the server misbehaves on the wire (all off by default)."""

    drop_every: int | None = None
    """Close the connection, unanswered, on every Nth request the server receives."""
    drop_at_block: int | None = None
    """Close every open connection when block B is produced."""
    stall_seconds: float = 0.0
    """Hold every answer and notification this long..."""
    stall_at_block: int | None = None
    """...or, if set, hold everything sent during the `stall_seconds` after block B."""
    reorder: bool = False
    """Answer out of order: batches reversed, concurrent answers flushed newest first."""
    reorder_window: float = 0.05
    """How long answers are collected before a reversed flush."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Reject values the server cannot honour, naming the field."""
        if self.drop_every is not None and self.drop_every < 1:
            raise DevnetError(f"drop_every must be >= 1, got {self.drop_every}")
        if not 0 <= self.stall_seconds < math.inf:
            raise DevnetError(f"stall seconds must be finite and >= 0, got {self.stall_seconds}")
        for name in ("drop_at_block", "stall_at_block"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise DevnetError(f"{name} must be a block number >= 1, got {value}")


# --- connections ---------------------------------------------------------------------------------


@dataclass(eq=False)
class _Connection:
    ws: ServerConnection
    outbox: asyncio.Queue[tuple[float, str]] = field(default_factory=asyncio.Queue)
    subscriptions: dict[str, str] = field(default_factory=dict)
    """Subscription id -> notification method."""


_SUBSCRIBE = {
    "chain_subscribeNewHeads": "chain_newHead",
    "chain_subscribeNewHead": "chain_newHead",
    "subscribe_newHead": "chain_newHead",
    "chain_subscribeFinalizedHeads": "chain_finalizedHead",
    "chain_subscribeFinalisedHeads": "chain_finalizedHead",
    "chain_subscribeAllHeads": "chain_allHead",
}
_UNSUBSCRIBE = {
    "chain_unsubscribeNewHeads": "chain_newHead",
    "chain_unsubscribeNewHead": "chain_newHead",
    "unsubscribe_newHead": "chain_newHead",
    "chain_unsubscribeFinalizedHeads": "chain_finalizedHead",
    "chain_unsubscribeFinalisedHeads": "chain_finalizedHead",
    "chain_unsubscribeAllHeads": "chain_allHead",
    "author_unwatchExtrinsic": "author_extrinsicUpdate",
}


@dataclass(frozen=True)
class _Method:
    handler: Callable[..., Any]
    params: tuple[str, ...] = ()
    subscription: bool = False
    """Subscription handlers also get the connection and the method name."""


class DevnetServer:
    """Serves a `DevChain` over WebSocket JSON-RPC; produces blocks every `block_time` s."""

    def __init__(
        self,
        chain: DevChain,
        host: str = "127.0.0.1",
        port: int = 0,
        block_time: float = 0.0,
        faults: TransportFaults | None = None,
    ) -> None:
        if block_time < 0:
            raise DevnetError(f"block_time must be >= 0, got {block_time}")
        self.chain = chain
        self.pool = ExtrinsicPool(chain)
        self.host = host
        self.port = port
        self.block_time = block_time
        self.faults = faults or TransportFaults()
        self.requests = 0
        self._server: Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.block_task: asyncio.Task[None] | None = None
        """The block timer; it ends with the exception a `before_block` hook raised."""
        self._connections: set[_Connection] = set()
        self._next_subscription = 0
        self._watched: dict[bytes, tuple[_Connection, str]] = {}
        self._stall_until = 0.0
        self._before_block: list[Callable[[int], None]] = []
        self._methods = self._method_table()
        chain.on_block(self._on_block_threadsafe)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = await serve(
            self._serve_connection,
            self.host,
            self.port,
            max_size=MAX_MESSAGE_BYTES,
            ping_interval=None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if self.block_time > 0:
            self.block_task = self._spawn(self._block_timer())

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        # Outcomes (a failed block timer included) were reported where they were awaited.
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> DevnetServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- blocks -----------------------------------------------------------------------------

    def before_block(self, hook: Callable[[int], None]) -> None:
        """Run `hook(number)` right before block `number` is produced (scenarios submit here)."""
        self._before_block.append(hook)

    def produce_block(self) -> Header:
        """Produce one block now (on the loop thread); subscribers are notified."""
        number = self.chain.best_number + 1
        for hook in self._before_block:
            hook(number)
        return self.chain.produce_block()

    async def produce(self, n: int = 1) -> list[Header]:
        """Produce `n` blocks, yielding to the loop between them so notifications go out."""
        headers = []
        for _ in range(n):
            headers.append(self.produce_block())
            await asyncio.sleep(0)
        return headers

    async def _block_timer(self) -> None:
        while True:
            await asyncio.sleep(self.block_time)
            self.produce_block()

    def _on_block_threadsafe(self, header: Header) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._announce, header)

    def _announce(self, header: Header) -> None:
        """Notify subscribers and watchers of a new (finalized) block; fire block faults."""
        number = header.number
        block_hash = header.hash()
        if self.faults.stall_at_block == number:
            self._stall_until = asyncio.get_running_loop().time() + self.faults.stall_seconds
        payload = header_json(header)
        for conn in list(self._connections):
            for sub_id, method in conn.subscriptions.items():
                if method in ("chain_newHead", "chain_finalizedHead", "chain_allHead"):
                    self._notify(conn, method, sub_id, payload)
        self._report_included(block_hash)
        if self.faults.drop_at_block == number:
            for conn in list(self._connections):
                conn.ws.transport.abort()

    def _report_included(self, block_hash: bytes) -> None:
        body = self.chain.body(block_hash) or []
        for extrinsic_hash in {blake2_256(x) for x in body} & set(self._watched):
            conn, sub_id = self._watched.pop(extrinsic_hash)
            if sub_id in conn.subscriptions:
                for status in ("inBlock", "finalized"):
                    self._notify(
                        conn, "author_extrinsicUpdate", sub_id, {status: hex_of(block_hash)}
                    )
                del conn.subscriptions[sub_id]

    # -- wire -------------------------------------------------------------------------------

    async def _serve_connection(self, ws: ServerConnection) -> None:
        conn = _Connection(ws)
        self._connections.add(conn)
        sender = self._spawn(self._send_loop(conn))
        try:
            async for message in ws:
                self.requests += 1
                every = self.faults.drop_every
                if every is not None and self.requests % every == 0:
                    ws.transport.abort()
                    break
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                reply = self.handle_text(text, conn)
                if reply is not None:
                    self._enqueue(conn, reply)
        except ConnectionClosed:
            pass
        finally:
            self._connections.discard(conn)
            sender.cancel()
            self._watched = {h: w for h, w in self._watched.items() if w[0] is not conn}

    def _enqueue(self, conn: _Connection, text: str) -> None:
        now = asyncio.get_running_loop().time()
        if self.faults.stall_at_block is None:
            ready = now + self.faults.stall_seconds
        else:
            ready = max(now, self._stall_until)
        conn.outbox.put_nowait((ready, text))

    async def _send_loop(self, conn: _Connection) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ConnectionClosed):
            while True:
                batch = [await conn.outbox.get()]
                if self.faults.reorder:
                    await asyncio.sleep(self.faults.reorder_window)
                    while not conn.outbox.empty():
                        batch.append(conn.outbox.get_nowait())
                    batch.reverse()
                for ready, text in batch:
                    delay = ready - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    await conn.ws.send(text)

    def _notify(self, conn: _Connection, method: str, sub_id: str, result: Any) -> None:
        message = {
            "jsonrpc": "2.0",
            "method": method,
            "params": {"subscription": sub_id, "result": result},
        }
        self._enqueue(conn, _dumps(message))

    # -- JSON-RPC ---------------------------------------------------------------------------

    def handle_text(self, text: str, conn: _Connection | None = None) -> str | None:
        """Answer one WebSocket message (a request or a batch); None when nothing is due."""
        try:
            request = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return _dumps(_error(None, JsonRpcError(PARSE_ERROR, "Parse error")))
        if isinstance(request, list):
            if not request:
                return _dumps(_error(None, JsonRpcError(INVALID_REQUEST, "Invalid request")))
            answers = [a for a in (self._handle_one(r, conn) for r in request) if a is not None]
            if self.faults.reorder:
                answers.reverse()
            return _dumps(answers) if answers else None
        answer = self._handle_one(request, conn)
        return None if answer is None else _dumps(answer)

    def _handle_one(self, request: Any, conn: _Connection | None) -> dict[str, Any] | None:
        if not isinstance(request, dict):
            return _error(None, JsonRpcError(INVALID_REQUEST, "Invalid request"))
        request_id = request.get("id")
        valid_id = request_id is None or (
            isinstance(request_id, str | int) and not isinstance(request_id, bool)
        )
        method = request.get("method")
        if request.get("jsonrpc") != "2.0" or not isinstance(method, str) or not valid_id:
            return _error(
                request_id if valid_id else None, JsonRpcError(INVALID_REQUEST, "Invalid request")
            )
        params = request.get("params", [])
        try:
            result = self.call(method, params, conn)
        except JsonRpcError as e:
            return None if "id" not in request else _error(request_id, e)
        except Exception as e:  # an adapter must answer, not drop the connection, on a bug
            error = JsonRpcError(INTERNAL_ERROR, "Internal error", f"{type(e).__name__}: {e}")
            return None if "id" not in request else _error(request_id, error)
        if "id" not in request:
            return None
        return {"jsonrpc": "2.0", "result": result, "id": request_id}

    def call(self, method: str, params: Any, conn: _Connection | None = None) -> Any:
        """Run one method with its params (a list, an object or null); raises `JsonRpcError`."""
        entry = self._methods.get(method)
        if entry is None:
            raise JsonRpcError(METHOD_NOT_FOUND, "Method not found")
        args = _positional(params, entry.params)
        if not entry.subscription:
            return entry.handler(*args)
        if conn is None:
            raise JsonRpcError(
                METHOD_NOT_FOUND, "Method not found", "subscriptions need a WebSocket connection"
            )
        return entry.handler(conn, method, *args)

    def _method_table(self) -> dict[str, _Method]:
        chain = self.chain
        plain: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
            "system_chain": (lambda: chain.config.chain_name, ()),
            "system_name": (lambda: "pinkpipe-devnet", ()),
            "system_version": (_package_version, ()),
            "system_health": (
                lambda: {"peers": 0, "isSyncing": False, "shouldHavePeers": False},
                (),
            ),
            "system_properties": (
                lambda: {"ss58Format": SS58_FORMAT, "tokenDecimals": 12, "tokenSymbol": "PHA"},
                (),
            ),
            "system_accountNextIndex": (self._account_next_index, ("account",)),
            "rpc_methods": (self._rpc_methods, ()),
            "chain_getBlockHash": (self._get_block_hash, ("number",)),
            "chain_getHead": (self._get_block_hash, ("number",)),
            "chain_getHeader": (self._get_header, ("hash",)),
            "chain_getBlock": (self._get_block, ("hash",)),
            "chain_getFinalizedHead": (lambda: hex_of(chain.finalized_hash), ()),
            "chain_getFinalisedHead": (lambda: hex_of(chain.finalized_hash), ()),
            "chain_getRuntimeVersion": (self._runtime_version, ("at",)),
            "state_getRuntimeVersion": (self._runtime_version, ("at",)),
            "grandpa_proveFinality": (self._prove_finality, ("block",)),
            "state_getReadProof": (self._read_proof, ("keys", "at")),
            "state_getStorage": (self._get_storage, ("key", "at")),
            "state_getStorageAt": (self._get_storage, ("key", "at")),
            "state_getKeysPaged": (self._keys_paged, ("prefix", "count", "start_key", "at")),
            "state_getKeysPagedAt": (self._keys_paged, ("prefix", "count", "start_key", "at")),
            "state_queryStorageAt": (self._query_storage_at, ("keys", "at")),
            "state_getMetadata": (self._metadata, ("at",)),
            "author_submitExtrinsic": (self._submit, ("extrinsic",)),
            "author_pendingExtrinsics": (lambda: [hex_of(x) for x in chain.pending()], ()),
        }
        table = {name: _Method(fn, params) for name, (fn, params) in plain.items()}
        table["author_submitAndWatchExtrinsic"] = _Method(self._watch, ("extrinsic",), True)
        for name in _SUBSCRIBE:
            table[name] = _Method(self._subscribe_heads, (), True)
        for name in _UNSUBSCRIBE:
            table[name] = _Method(self._unsubscribe, ("subscription",), True)
        return table

    # -- methods ----------------------------------------------------------------------------

    def _rpc_methods(self) -> dict[str, Any]:
        return {"version": 1, "methods": sorted(self._methods)}

    def _account_next_index(self, account: Any) -> int:
        return self.chain.account_nonce(_account(account))

    def _get_block_hash(self, number: Any = None) -> Any:
        if number is None:
            return hex_of(self.chain.best_hash)
        if isinstance(number, list):
            return [self._get_block_hash(n) for n in number]
        found = self.chain.block_hash(_block_number(number))
        return None if found is None else hex_of(found)

    def _hash_or_best(self, value: Any, what: str = "block hash") -> bytes:
        return self.chain.best_hash if value is None else hex_param(value, what, 32)

    def _known_block(self, value: Any) -> bytes:
        """A block hash for state queries; unknown ones fail as on a node."""
        block_hash = self._hash_or_best(value)
        if self.chain.header(block_hash) is None:
            raise JsonRpcError(
                STATE_CLIENT_ERROR,
                f"Client error: UnknownBlock: State already discarded for {hex_of(block_hash)}",
            )
        return block_hash

    def _get_header(self, block_hash: Any = None) -> Any:
        header = self.chain.header(self._hash_or_best(block_hash))
        return None if header is None else header_json(header)

    def _get_block(self, block_hash: Any = None) -> Any:
        wanted = self._hash_or_best(block_hash)
        header = self.chain.header(wanted)
        if header is None:
            return None
        body = self.chain.body(wanted) or []
        justification = self.chain.justification(wanted)
        return {
            "block": {"header": header_json(header), "extrinsics": [hex_of(x) for x in body]},
            "justifications": None
            if justification is None
            else [[GRANDPA_ENGINE, list(justification)]],
        }

    def _runtime_version(self, at: Any = None) -> dict[str, Any]:
        self._known_block(at)
        return self.chain.runtime_version

    def _metadata(self, at: Any = None) -> str:
        self._known_block(at)
        return hex_of(self.chain.metadata)

    def _prove_finality(self, block: Any) -> str | None:
        number = _block_number(block)
        if number > self.chain.finalized_number:
            raise JsonRpcError(
                GRANDPA_PROVE_FINALITY, "GRANDPA prove finality rpc failed: Block not yet finalized"
            )
        proof = self.chain.prove_finality(number)
        return None if proof is None else hex_of(proof)

    def _keys(self, keys: Any) -> list[bytes]:
        if not isinstance(keys, list):
            raise bad_params(f"keys must be a list of hex strings, got {keys!r}")
        return [hex_param(k, "storage key") for k in keys]

    def _read_proof(self, keys: Any, at: Any = None) -> dict[str, Any]:
        block_hash = self._known_block(at)
        nodes = self.chain.read_proof(self._keys(keys), block_hash)
        return {"at": hex_of(block_hash), "proof": [hex_of(n) for n in nodes]}

    def _get_storage(self, key: Any, at: Any = None) -> str | None:
        value = self.chain.storage(hex_param(key, "storage key"), self._known_block(at))
        return None if value is None else hex_of(value)

    def _keys_paged(
        self, prefix: Any, count: Any, start_key: Any = None, at: Any = None
    ) -> list[str]:
        prefix_bytes = b"" if prefix is None else hex_param(prefix, "prefix")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise bad_params(f"count must be a non-negative integer, got {count!r}")
        if count > KEYS_PAGED_MAX:
            raise JsonRpcError(
                STATE_INVALID_COUNT,
                f"count exceeds maximum value. value: {count}, max: {KEYS_PAGED_MAX}",
            )
        start = None if start_key is None else hex_param(start_key, "start key")
        keys = self.chain.keys_paged(prefix_bytes, count, start, self._known_block(at))
        return [hex_of(k) for k in keys]

    def _query_storage_at(self, keys: Any, at: Any = None) -> list[dict[str, Any]]:
        block_hash = self._known_block(at)
        changes = []
        for key in self._keys(keys):
            value = self.chain.storage(key, block_hash)
            changes.append([hex_of(key), None if value is None else hex_of(value)])
        return [{"block": hex_of(block_hash), "changes": changes}]

    def _submit(self, extrinsic: Any) -> str:
        return hex_of(self.pool.submit(hex_param(extrinsic, "extrinsic")))

    # -- subscriptions ----------------------------------------------------------------------

    def _new_subscription(self, conn: _Connection, method: str) -> str:
        self._next_subscription += 1
        sub_id = f"{self._next_subscription:016x}"
        conn.subscriptions[sub_id] = method
        return sub_id

    def _notify_soon(self, conn: _Connection, method: str, sub_id: str, result: Any) -> None:
        """Notify after the current answer is queued (a node answers the id first)."""

        def send() -> None:
            if sub_id in conn.subscriptions:
                self._notify(conn, method, sub_id, result)

        asyncio.get_running_loop().call_soon(send)

    def _subscribe_heads(self, conn: _Connection, method: str) -> str:
        notification = _SUBSCRIBE[method]
        sub_id = self._new_subscription(conn, notification)
        best = self.chain.header(self.chain.best_hash)
        if best is not None:  # a node sends the current head right away
            self._notify_soon(conn, notification, sub_id, header_json(best))
        return sub_id

    def _watch(self, conn: _Connection, method: str, extrinsic: Any) -> str:
        extrinsic_hash = self.pool.submit(hex_param(extrinsic, "extrinsic"))
        sub_id = self._new_subscription(conn, "author_extrinsicUpdate")
        self._watched[extrinsic_hash] = (conn, sub_id)
        self._notify_soon(conn, "author_extrinsicUpdate", sub_id, "ready")
        return sub_id

    def _unsubscribe(self, conn: _Connection, method: str, sub_id: Any) -> bool:
        if not isinstance(sub_id, str):
            raise bad_params(f"subscription id must be a string, got {sub_id!r}")
        if conn.subscriptions.get(sub_id) != _UNSUBSCRIBE[method]:
            return False
        del conn.subscriptions[sub_id]
        return True


def _positional(params: Any, names: tuple[str, ...]) -> list[Any]:
    """Params as positional arguments; missing trailing ones are None (optional)."""
    if params is None:
        params = []
    if isinstance(params, dict):
        unknown = set(params) - set(names)
        if unknown:
            raise bad_params(f"unknown parameters {sorted(unknown)}")
        return [params.get(n) for n in names]
    if not isinstance(params, list):
        raise bad_params("params must be an array or an object")
    if len(params) > len(names):
        raise bad_params(f"expected at most {len(names)} parameters, got {len(params)}")
    return [*params, *([None] * (len(names) - len(params)))]


def _error(request_id: Any, error: JsonRpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": error.error_object(), "id": request_id}


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# --- running in a background thread (for synchronous clients such as substrate-interface) --------


class BackgroundDevnet:
    """A `DevnetServer` on its own event-loop thread, driven from synchronous code."""

    def __init__(self, chain: DevChain, **server_options: Any) -> None:
        self.chain = chain
        self._options = server_options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="devnet-rpc", daemon=True
        )
        self.server: DevnetServer | None = None

    def start(self) -> BackgroundDevnet:
        self._thread.start()
        self.server = self.run(self._start())
        return self

    async def _start(self) -> DevnetServer:
        server = DevnetServer(self.chain, **self._options)
        await server.start()
        return server

    @property
    def url(self) -> str:
        if self.server is None:
            raise DevnetError("the background devnet is not started")
        return self.server.url

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the loop thread (the only thread that may touch the chain)."""

        async def wrapper() -> T:
            return fn()

        return self.run(wrapper())

    def produce(self, n: int = 1) -> list[Header]:
        if self.server is None:
            raise DevnetError("the background devnet is not started")
        return self.run(self.server.produce(n))

    def stop(self) -> None:
        if self.server is not None:
            self.run(self.server.stop())
            self.server = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> BackgroundDevnet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
