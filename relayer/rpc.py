"""A thin JSON-RPC 2.0 client over one WebSocket: concurrent calls, batches, subscriptions.

substrate-interface is synchronous and sends one request at a time, so catching up through it
is bounded by one round trip per request. This client multiplexes: any number of calls (or
batch arrays) are in flight on the connection at once and answers are matched by id, in
whatever order the node sends them. It is the relayer's hot path for a real node and the
devnet alike.

Failures are split in two: `RpcTransportError` (connection lost, no answer in time, a frame
that is not JSON) means "reconnect and retry", `RpcCallError` means the node answered with a
JSON-RPC error object.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from pinkpipe.chain.errors import OperationalError

log = logging.getLogger(__name__)

MAX_FRAME = 128 * 1024 * 1024
"""Largest answer accepted (a batch of large blocks); bounds memory against a hostile node."""
MAX_EARLY = 16
"""Subscriptions whose notifications may arrive before their id is known (bounded)."""


class RpcError(OperationalError):
    """A node request failed."""


class RpcTransportError(RpcError):
    """The connection is unusable: closed, silent past the timeout, or sending non-JSON."""


class RpcCallError(RpcError):
    """The node answered with a JSON-RPC error object."""

    def __init__(self, method: str, code: object, message: object) -> None:
        super().__init__(f"{method} failed: node error {code}: {message}")
        self.method = method
        self.code = code


class Subscription:
    """Notifications of one subscription, queued in arrival order."""

    def __init__(self, client: RpcClient, sub_id: object, unsubscribe: str) -> None:
        self._client = client
        self.id = sub_id
        self._unsubscribe = unsubscribe
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    async def next(self, timeout_s: float) -> Any:
        """The next notification's `result`; TimeoutError if none arrives in time."""
        item = await asyncio.wait_for(self.queue.get(), timeout_s)
        if isinstance(item, RpcTransportError):
            raise item
        return item

    async def close(self) -> None:
        self._client._subscriptions.pop(self.id, None)
        if self._client.connected:
            with contextlib.suppress(RpcError, TimeoutError):
                await self._client.call(self._unsubscribe, [self.id])


class RpcClient:
    """One WebSocket connection to a node; `connect()` before use, `close()` after."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, tuple[str, asyncio.Future[Any]]] = {}
        self._subscriptions: dict[object, Subscription] = {}
        self._early: dict[object, list[Any]] = {}
        self._next_id = 0
        self.broken: RpcTransportError | None = None

    @property
    def connected(self) -> bool:
        return self._ws is not None and self.broken is None

    async def connect(self) -> None:
        try:
            self._ws = await websockets.connect(
                self.url,
                max_size=MAX_FRAME,
                open_timeout=self.timeout_s,
                ping_interval=None,
                compression=None,
            )
        except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as e:
            raise RpcTransportError(f"cannot connect to {self.url}: {e}") from None
        self.broken = None
        self._subscriptions.clear()  # subscriptions do not survive a reconnect
        self._early.clear()
        self._reader = asyncio.create_task(self._read_loop(self._ws), name="rpc-reader")

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2)
        self._fail_all(RpcTransportError(f"connection to {self.url} closed"))

    def _fail_all(self, error: RpcTransportError) -> None:
        if self.broken is None:
            self.broken = error
        for _, future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()
        for sub in self._subscriptions.values():
            sub.queue.put_nowait(error)

    async def _read_loop(self, ws: ClientConnection) -> None:
        try:
            async for frame in ws:
                try:
                    message = json.loads(frame)
                except ValueError as e:
                    raise RpcTransportError(f"malformed JSON from {self.url}: {e}") from None
                for item in message if isinstance(message, list) else [message]:
                    self._dispatch(item)
            self._fail_all(RpcTransportError(f"{self.url} closed the connection"))
        except RpcTransportError as e:
            self._fail_all(e)
            await ws.close()
        except websockets.exceptions.WebSocketException as e:
            self._fail_all(RpcTransportError(f"connection to {self.url} lost: {e}"))
        except OSError as e:
            self._fail_all(RpcTransportError(f"connection to {self.url} failed: {e}"))

    def _dispatch(self, item: Any) -> None:
        if not isinstance(item, dict):
            raise RpcTransportError(f"JSON-RPC message from {self.url} is not an object: {item!r}")
        if "id" in item and item["id"] is not None:
            entry = self._pending.pop(item["id"], None) if isinstance(item["id"], int) else None
            if entry is None:
                log.debug("answer with unknown id %r from %s", item["id"], self.url)
                return
            method, future = entry
            if future.done():
                return
            if "error" in item:
                error = item["error"] if isinstance(item["error"], dict) else {}
                future.set_exception(
                    RpcCallError(method, error.get("code"), error.get("message", item["error"]))
                )
            elif "result" in item:
                future.set_result(item["result"])
            else:
                future.set_exception(
                    RpcTransportError(f"{method}: answer has neither result nor error")
                )
            return
        params = item.get("params")
        if isinstance(params, dict) and "subscription" in params:
            sub = self._subscriptions.get(params["subscription"])
            if sub is not None:
                sub.queue.put_nowait(params.get("result"))
            elif len(self._early) < MAX_EARLY:
                self._early.setdefault(params["subscription"], []).append(params.get("result"))

    def _request(
        self, method: str, params: Sequence[Any]
    ) -> tuple[dict[str, Any], asyncio.Future[Any]]:
        if self._ws is None:
            raise RpcTransportError(f"not connected to {self.url}")
        if self.broken is not None:
            raise self.broken
        self._next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = (method, future)
        return {
            "jsonrpc": "2.0",
            "id": self._next_id,
            "method": method,
            "params": list(params),
        }, future

    async def _send(self, payload: Any, futures: Sequence[asyncio.Future[Any]]) -> None:
        """Send one request (or batch) whose answers `futures` await. If the send fails or
        is cancelled, nobody will await them: they are withdrawn and collected, so a dying
        connection leaves no "Future exception was never retrieved" behind."""
        assert self._ws is not None
        try:
            await self._ws.send(json.dumps(payload, separators=(",", ":")))
        except (OSError, websockets.exceptions.WebSocketException) as e:
            self._withdraw(futures)
            error = RpcTransportError(f"cannot send to {self.url}: {e}")
            self._fail_all(error)
            raise error from None
        except BaseException:
            self._withdraw(futures)
            raise

    def _withdraw(self, futures: Sequence[asyncio.Future[Any]]) -> None:
        withdrawn = {id(f) for f in futures}
        for request_id in [i for i, (_, f) in self._pending.items() if id(f) in withdrawn]:
            del self._pending[request_id]
        for future in futures:
            if future.done() and not future.cancelled():
                future.exception()
            future.cancel()

    async def _wait(self, futures: Sequence[asyncio.Future[Any]], what: str) -> None:
        try:
            await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), self.timeout_s)
        except TimeoutError:
            error = RpcTransportError(f"no answer to {what} within {self.timeout_s}s")
            self._fail_all(error)
            raise error from None

    async def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        request, future = self._request(method, params)
        await self._send(request, [future])
        await self._wait([future], method)
        return future.result()

    async def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Send `calls` as one JSON-RPC batch; each entry is a result or an `RpcCallError`.

        A transport failure raises instead: a partial batch is never returned.
        """
        if not calls:
            return []
        requests, futures = zip(*(self._request(m, p) for m, p in calls), strict=True)
        await self._send(list(requests), futures)
        await self._wait(futures, f"batch of {len(calls)} ({calls[0][0]}, ...)")
        out: list[Any] = []
        for future in futures:
            error = future.exception()
            if isinstance(error, RpcTransportError):
                raise error
            out.append(error if error is not None else future.result())
        return out

    async def subscribe(self, method: str, params: Sequence[Any], unsubscribe: str) -> Subscription:
        sub_id = await self.call(method, params)
        if not isinstance(sub_id, str | int):
            raise RpcTransportError(f"{method} returned subscription id {sub_id!r}")
        sub = Subscription(self, sub_id, unsubscribe)
        self._subscriptions[sub_id] = sub
        for early in self._early.pop(sub_id, []):
            sub.queue.put_nowait(early)
        return sub
