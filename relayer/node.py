"""Checked access to an untrusted node: every answer is validated before the relayer uses it.

A block is only accepted if the header the node returns hashes to the hash it gave for that
number and carries that number, its body and proof are well-formed hex, and its justification
(if any) decodes and targets that very block. Anything else is a `NodeError` naming the block;
requests are retried a bounded number of times (reconnecting on transport failures) before the
error is final. Whether the data is *true* (signatures, roots) is the validator's job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from substrateinterface import SubstrateInterface

from pinkpipe.chain.errors import OperationalError
from pinkpipe.chain.grandpa import FinalityProof, Justification
from pinkpipe.chain.header import GRANDPA_ENGINE_ID, Header
from pinkpipe.chain.hextext import HexError, parse_hex
from pinkpipe.chain.keys import storage_prefix
from pinkpipe.chain.scale import CodecError, encode_compact
from pinkpipe.relayer.rpc import RpcCallError, RpcClient, RpcError, RpcTransportError

log = logging.getLogger(__name__)

T = TypeVar("T")


class NodeError(OperationalError):
    """A node answer that cannot be right, or a node that stays unreachable."""


class WrongChain(NodeError):
    """The node serves another chain than the one being relayed (a node replaced behind the
    same URL, a devnet restarted with other options): no retry can help."""


@dataclass(frozen=True, slots=True)
class ChainInfo:
    genesis_hash: bytes
    chain: str
    spec_name: str
    spec_version: int


@dataclass(frozen=True, slots=True)
class FetchedBlock:
    number: int
    hash: bytes
    header: Header
    body: list[bytes]
    justification: bytes | None
    proof: list[bytes]

    @property
    def label(self) -> str:
        return f"#{self.number} 0x{self.hash.hex()}"


@dataclass(frozen=True, slots=True)
class FinalityTarget:
    """What `grandpa_proveFinality` proves: a justification of block `number`/`hash`."""

    number: int
    hash: bytes
    justification: bytes


def hex_bytes(value: Any, what: str, size: int | None = None) -> bytes:
    """A node's `0x` hex value; a malformed one is the node's error, named by `what`."""
    try:
        return parse_hex(value, size=size)
    except HexError as e:
        raise NodeError(f"{what} is {e}") from None


def hash32(value: Any, what: str) -> bytes:
    return hex_bytes(value, what, size=32)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _field(obj: Any, name: str, what: str) -> Any:
    if not isinstance(obj, dict) or name not in obj:
        raise NodeError(f"{what}: missing field {name!r} in {_short(obj)}")
    return obj[name]


def header_from_json(value: Any, what: str) -> Header:
    """A header from the node's JSON form, re-encoded to SCALE so its hash can be checked."""
    number_hex = _field(value, "number", what)
    if not isinstance(number_hex, str) or not number_hex.startswith("0x"):
        raise NodeError(f"{what}: header number {_short(number_hex)} is not hex")
    try:
        number = int(number_hex, 16)
    except ValueError:
        raise NodeError(f"{what}: header number {_short(number_hex)} is not hex") from None
    logs = _field(_field(value, "digest", what), "logs", what)
    if not isinstance(logs, list):
        raise NodeError(f"{what}: digest logs is not a list")
    encoded = b"".join(
        (
            hash32(_field(value, "parentHash", what), f"{what} parentHash"),
            encode_compact(number),
            hash32(_field(value, "stateRoot", what), f"{what} stateRoot"),
            hash32(_field(value, "extrinsicsRoot", what), f"{what} extrinsicsRoot"),
            encode_compact(len(logs)),
            *(hex_bytes(item, f"{what} digest log") for item in logs),
        )
    )
    try:
        return Header.decode(encoded)
    except CodecError as e:
        raise NodeError(f"{what}: header does not decode: {e}") from None


def _engine(value: Any) -> bytes | None:
    """A ConsensusEngineId as nodes serialize it: 4 numbers, or a 4-character string."""
    if isinstance(value, list) and len(value) == 4 and all(isinstance(b, int) for b in value):
        try:
            return bytes(value)
        except ValueError:
            return None
    if isinstance(value, str) and len(value) == 4:
        return value.encode("latin-1", errors="replace")
    return None


def grandpa_justification(value: Any, what: str) -> bytes | None:
    """The GRANDPA entry of a block's `justifications` (None when it has none)."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise NodeError(f"{what}: justifications is not a list: {_short(value)}")
    for entry in value:
        if not isinstance(entry, list) or len(entry) != 2:
            raise NodeError(f"{what}: malformed justification entry {_short(entry)}")
        if _engine(entry[0]) == GRANDPA_ENGINE_ID:
            return _byte_string(entry[1], f"{what} justification")
    return None


def _byte_string(value: Any, what: str) -> bytes:
    """`Vec<u8>` as serde writes it (an array of numbers), or as 0x hex."""
    if isinstance(value, list):
        try:
            return bytes(value)
        except (TypeError, ValueError):
            raise NodeError(f"{what}: not a byte array: {_short(value)}") from None
    return hex_bytes(value, what)


def check_justification(data: bytes, number: int, block_hash: bytes, what: str) -> None:
    """The justification decodes and its commit targets this block (signatures: validator)."""
    try:
        commit = Justification.decode(data).commit
    except CodecError as e:
        raise NodeError(f"{what}: justification does not decode: {e}") from None
    if commit.target_hash != block_hash or commit.target_number != number:
        raise NodeError(
            f"{what}: justification targets #{commit.target_number} "
            f"0x{commit.target_hash.hex()}, not this block"
        )


def chain_info(url: str) -> ChainInfo:
    """Genesis hash, chain name and runtime version through substrate-interface (blocking)."""
    substrate = SubstrateInterface(url=url, auto_reconnect=False)
    try:
        genesis = hash32(substrate.get_block_hash(0), "genesis hash")
        version = substrate.rpc_request("state_getRuntimeVersion", [])["result"]
        if not isinstance(version, dict):
            raise NodeError(f"state_getRuntimeVersion returned {_short(version)}")
        return ChainInfo(
            genesis,
            str(substrate.chain),
            str(version.get("specName", "")),
            int(version.get("specVersion", 0)),
        )
    finally:
        substrate.close()


def storage_key_names(url: str, keys: Sequence[bytes]) -> dict[bytes, str | None]:
    """Which runtime storage item each key is (`Pallet::Item`), from the node's metadata
    decoded by substrate-interface; None for a key the runtime does not declare (blocking)."""
    substrate = SubstrateInterface(url=url, auto_reconnect=False)
    try:
        substrate.init_runtime()
        items: dict[bytes, str] = {}
        for pallet in substrate.metadata.pallets:
            storage = pallet.value.get("storage")
            if not storage:
                continue
            for entry in storage["entries"]:
                key = storage_prefix(storage["prefix"], entry["name"])
                items[key] = f"{storage['prefix']}::{entry['name']}"
    finally:
        substrate.close()
    return {k: items.get(k[:32]) for k in keys}


class Node:
    """The relayer's view of one node: reconnecting, retrying, validating."""

    def __init__(
        self,
        url: str,
        storage_keys: Sequence[bytes],
        timeout_s: float = 10.0,
        retries: int = 5,
        batch: int = 16,
        max_backoff_s: float = 5.0,
    ) -> None:
        self.url = url
        self.storage_keys = tuple(storage_keys)
        self.retries = retries
        self.batch = batch
        self.max_backoff_s = max_backoff_s
        self.client = RpcClient(url, timeout_s)
        self._reconnect_lock = asyncio.Lock()
        self.reconnects = 0
        self.genesis: bytes | None = None
        """The chain this node must serve, learnt by `chain_info` and checked on every
        (re)connection."""

    def backoff(self, attempt: int) -> float:
        return float(min(self.max_backoff_s, 0.1 * 2**attempt))

    async def chain_info(self) -> ChainInfo:
        """substrate-interface's view of the chain (in a thread: it is synchronous)."""

        async def attempt() -> ChainInfo:
            try:
                return await asyncio.to_thread(chain_info, self.url)
            except NodeError:
                raise
            except Exception as e:
                raise RpcTransportError(f"substrate-interface on {self.url}: {e}") from None

        info = await self.retrying("reading genesis and runtime version", attempt)
        self.genesis = info.genesis_hash
        return info

    async def connect(self) -> None:
        await self.retrying("connecting", self._ensure_connected)

    async def _ensure_connected(self) -> None:
        async with self._reconnect_lock:
            if self.client.connected:
                return
            await self.client.close()
            await self.client.connect()
            try:
                await self._check_genesis()
            except BaseException:
                await self.client.close()  # checked again on the next attempt
                raise
            self.reconnects += 1
            if self.reconnects > 1:
                log.info("reconnected to %s", self.url)

    async def _check_genesis(self) -> None:
        """A finality conflict with a node of another chain would name two block hashes and
        leave the cause to guess; block #0 names it."""
        if self.genesis is None:
            return
        served = hash32(await self._call("chain_getBlockHash", [0], "block #0"), "block #0 hash")
        if served != self.genesis:
            raise WrongChain(
                f"the node at {self.url} serves a different chain (genesis 0x{served.hex()}), "
                f"not 0x{self.genesis.hex()}: point --node at a node of that chain"
            )

    async def close(self) -> None:
        await self.client.close()

    async def retrying(self, what: str, fn: Callable[[], Awaitable[T]]) -> T:
        """`fn()` with bounded retries: transport errors reconnect, bad answers re-ask."""
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                delay = self.backoff(attempt)
                log.warning(
                    "%s failed (%s); retry %d/%d in %.1fs", what, last, attempt, self.retries, delay
                )
                await asyncio.sleep(delay)
            try:
                if not self.client.connected:
                    await self._ensure_connected()
                return await fn()
            except WrongChain:
                raise
            except (RpcError, NodeError) as e:
                last = e
        raise NodeError(f"{what}: {last} (gave up after {self.retries + 1} attempts)")

    async def _call(self, method: str, params: Sequence[Any], what: str) -> Any:
        try:
            return await self.client.call(method, params)
        except RpcCallError as e:
            raise NodeError(f"{what}: {e}") from None

    async def _many(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several calls at once: one batch, or concurrent single calls when batch size is 1."""
        if self.batch > 1:
            return await self.client.batch(calls)
        results = await asyncio.gather(
            *(self.client.call(m, p) for m, p in calls), return_exceptions=True
        )
        for r in results:
            if isinstance(r, RpcTransportError):
                raise r
            if isinstance(r, BaseException) and not isinstance(r, RpcCallError):
                raise r
        return list(results)

    async def finalized_head(self) -> tuple[int, bytes]:
        async def attempt() -> tuple[int, bytes]:
            head = hash32(
                await self._call("chain_getFinalizedHead", [], "finalized head"), "finalized head"
            )
            header = await self._header(head, "finalized head")
            return header.number, head

        return await self.retrying("reading the finalized head", attempt)

    async def _header(self, block_hash: bytes, what: str) -> Header:
        value = await self._call("chain_getHeader", ["0x" + block_hash.hex()], what)
        if value is None:
            raise NodeError(f"{what}: node has no header 0x{block_hash.hex()}")
        header = header_from_json(value, what)
        if header.hash() != block_hash:
            raise NodeError(
                f"{what}: header hashes to 0x{header.hash().hex()}, asked for 0x{block_hash.hex()}"
            )
        return header

    async def block_hash(self, number: int) -> bytes | None:
        async def attempt() -> bytes | None:
            value = await self._call("chain_getBlockHash", [number], f"block #{number}")
            return None if value is None else hash32(value, f"block #{number} hash")

        return await self.retrying(f"reading the hash of block #{number}", attempt)

    async def header_at(self, number: int, block_hash: bytes) -> Header:
        what = f"block #{number} 0x{block_hash.hex()}"

        async def attempt() -> Header:
            header = await self._header(block_hash, what)
            if header.number != number:
                raise NodeError(f"{what}: header says #{header.number}")
            return header

        return await self.retrying(f"reading the header of {what}", attempt)

    async def read_proof(self, keys: Sequence[bytes], at: bytes, what: str) -> list[bytes]:
        async def attempt() -> list[bytes]:
            params = [["0x" + k.hex() for k in keys], "0x" + at.hex()]
            return parse_read_proof(await self._call("state_getReadProof", params, what), at, what)

        return await self.retrying(f"reading the storage proof of {what}", attempt)

    async def fetch_blocks(self, first: int, last: int) -> list[FetchedBlock]:
        """Blocks `first..last` (inclusive), each checked; retried as a whole on failure."""
        return await self.retrying(
            f"fetching blocks #{first}..#{last}", lambda: self._fetch_blocks(first, last)
        )

    async def _fetch_blocks(self, first: int, last: int) -> list[FetchedBlock]:
        numbers = list(range(first, last + 1))
        hashes_raw = await self._many([("chain_getBlockHash", [n]) for n in numbers])
        hashes: list[bytes] = []
        for n, value in zip(numbers, hashes_raw, strict=True):
            what = f"block #{n}"
            if isinstance(value, RpcCallError):
                raise NodeError(f"{what}: {value}")
            if value is None:
                raise NodeError(f"{what}: node has no such block (missing block)")
            hashes.append(hash32(value, f"{what} hash"))
        keys = ["0x" + k.hex() for k in self.storage_keys]
        calls: list[tuple[str, Sequence[Any]]] = []
        for h in hashes:
            calls.append(("chain_getBlock", ["0x" + h.hex()]))
            calls.append(("state_getReadProof", [keys, "0x" + h.hex()]))
        answers = await self._many(calls)
        return [
            parse_block(n, h, answers[2 * i], answers[2 * i + 1])
            for i, (n, h) in enumerate(zip(numbers, hashes, strict=True))
        ]

    async def prove_finality(self, number: int) -> FinalityTarget | None:
        """The justification `grandpa_proveFinality(number)` offers, with its target."""
        what = f"finality proof for #{number}"

        async def attempt() -> FinalityTarget | None:
            value = await self._call("grandpa_proveFinality", [number], what)
            if value is None:
                return None
            try:
                proof = FinalityProof.decode(hex_bytes(value, what))
                commit = Justification.decode(proof.justification).commit
            except CodecError as e:
                raise NodeError(f"{what}: does not decode: {e}") from None
            if commit.target_hash != proof.block:
                raise NodeError(f"{what}: justification does not target the proof's block")
            return FinalityTarget(commit.target_number, commit.target_hash, proof.justification)

        return await self.retrying(f"reading the {what}", attempt)


def parse_read_proof(value: Any, at: bytes, what: str) -> list[bytes]:
    if isinstance(value, RpcCallError):
        raise NodeError(f"{what}: {value}")
    at_field = _field(value, "at", f"{what} read proof")
    if at_field is not None and hash32(at_field, f"{what} proof block") != at:
        raise NodeError(f"{what}: read proof is for block {at_field}")
    nodes = _field(value, "proof", f"{what} read proof")
    if not isinstance(nodes, list):
        raise NodeError(f"{what}: read proof nodes is not a list")
    return [hex_bytes(n, f"{what} proof node") for n in nodes]


def parse_block(number: int, block_hash: bytes, block: Any, proof: Any) -> FetchedBlock:
    """One `chain_getBlock` + `state_getReadProof` answer pair, checked against the hash."""
    what = f"block #{number} 0x{block_hash.hex()}"
    if isinstance(block, RpcCallError):
        raise NodeError(f"{what}: {block}")
    if block is None:
        raise NodeError(f"{what}: node returned no block (missing block)")
    inner = _field(block, "block", what)
    header = header_from_json(_field(inner, "header", what), what)
    if header.hash() != block_hash:
        raise NodeError(f"{what}: header hashes to 0x{header.hash().hex()}, not the hash asked for")
    if header.number != number:
        raise NodeError(f"{what}: header says #{header.number}")
    extrinsics = _field(inner, "extrinsics", what)
    if not isinstance(extrinsics, list):
        raise NodeError(f"{what}: extrinsics is not a list")
    body = [hex_bytes(x, f"{what} extrinsic") for x in extrinsics]
    justification = grandpa_justification(block.get("justifications"), what)
    if justification is not None:
        check_justification(justification, number, block_hash, what)
    return FetchedBlock(
        number, block_hash, header, body, justification, parse_read_proof(proof, block_hash, what)
    )
