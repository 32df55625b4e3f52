"""The wasmtime side: one Engine and Linker, compiled modules cached by code hash, upload checks.

The Linker holds every host function once; each is bound to whatever call stack is running
(`Engine.active`), because a fresh `Store` is made per call stack (ecall) while the Linker
outlives them. Compiling a real ink! contract takes cranelift 0.1-0.3 s; an optional
`ModuleStore` keeps the serialized modules, so a restart loads them in under a millisecond.
Upload checks follow pallet-contracts v1.5 `wasm/prepare.rs` and Pink's own pre-check
(PINK.md 2.1, 3.4); each refusal is a `CodeRejected` naming the reason.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import wasmtime

from pinkpipe.executor.errors import CodeRejected
from pinkpipe.executor.host import DEPRECATED, HOST_FUNCTIONS, UNSTABLE, HostFunction
from pinkpipe.executor.schedule import MAX_CODE_LEN, MAX_DECOMPRESSED_CODE, MEMORY_PAGES
from pinkpipe.executor.wasm import I32, I64, FuncType, WasmModule, parse_module

if TYPE_CHECKING:
    from pinkpipe.executor.stack import Stack

_WASM_TYPE = {"i": I32, "I": I64}
_VALTYPE = {"i": wasmtime.ValType.i32, "I": wasmtime.ValType.i64}
ENTRY_POINTS = ("deploy", "call")
_UNSIGNED = {"i": 2**32 - 1, "I": 2**64 - 1}


class ModuleStore(Protocol):
    """Where compiled modules are kept between runs (e.g. files named by code hash)."""

    def load(self, code_hash: bytes) -> bytes | None: ...
    def save(self, code_hash: bytes, data: bytes) -> None: ...


@dataclass(frozen=True)
class CheckedCode:
    """Code that passed the upload checks, with what execution needs from it."""

    module: wasmtime.Module
    memory_limits: tuple[int, int]


def _signature(hf: HostFunction) -> FuncType:
    return FuncType(
        tuple(_WASM_TYPE[c] for c in hf.params), tuple(_WASM_TYPE[c] for c in hf.result)
    )


def _check_function_import(module: str, name: str, actual: FuncType) -> None:
    base = name.removeprefix("seal_")
    if (module, base) in UNSTABLE:
        raise CodeRejected(f"import {module}.{name} is unstable (not available in Pink)")
    if (module, base) in DEPRECATED:
        raise CodeRejected(f"import {module}.{name} is deprecated (refused for new code)")
    hf = HOST_FUNCTIONS.get((module, name))
    if hf is None:
        raise CodeRejected(f"import {module}.{name} is not a known host function")
    expected = _signature(hf)
    if actual != expected:
        raise CodeRejected(
            f"import {module}.{name} has signature {actual.describe()}, "
            f"expected {expected.describe()}"
        )


def _check_imports(m: WasmModule) -> tuple[int, int]:
    """Host function imports as linked; exactly one env.memory within the page limit."""
    memory: tuple[int, int] | None = None
    for imp in m.imports:
        if imp.kind == 0:
            _check_function_import(imp.module, imp.name, m.types[imp.type_index])
            continue
        if (imp.module, imp.name) != ("env", "memory"):
            raise CodeRejected(f"import {imp.module}.{imp.name}: memory must be env.memory")
        if memory is not None:
            raise CodeRejected("more than one memory import")
        if imp.shared:
            raise CodeRejected("shared memory is not allowed")
        minimum, maximum = (
            imp.limits[0],
            imp.limits[1] if imp.limits[1] is not None else MEMORY_PAGES,
        )
        if minimum > maximum:
            raise CodeRejected(f"memory minimum {minimum} exceeds its maximum {maximum}")
        if maximum > MEMORY_PAGES:
            raise CodeRejected(f"memory maximum of {maximum} pages exceeds {MEMORY_PAGES}")
        memory = (minimum, maximum)
    if m.memories:
        raise CodeRejected("the module defines its own memory (it must import env.memory)")
    if memory is None:
        raise CodeRejected("no env.memory import")
    return memory


def _check_exports(m: WasmModule) -> None:
    """Only `deploy` and `call`, both present, each `() -> ()` or legacy `() -> i32`."""
    found: set[str] = set()
    for export in m.exports:
        if export.kind != 0:
            raise CodeRejected(f"export {export.name!r} is not a function (only deploy/call)")
        if export.name not in ENTRY_POINTS:
            raise CodeRejected(f"unknown export {export.name!r}: only deploy and call")
        ty = m.function_type(export.index)
        if ty.params or ty.results not in ((), (I32,)):
            raise CodeRejected(
                f"export {export.name!r} has type {ty.describe()}, expected () -> ()"
            )
        found.add(export.name)
    for name in ENTRY_POINTS:
        if name not in found:
            raise CodeRejected(f"expected a function export {name!r}")
    if m.start is not None:
        raise CodeRejected("a start function is not allowed")


def check_code(code: bytes, deterministic: bool) -> tuple[WasmModule, tuple[int, int]]:
    """Every upload rule that does not need wasmtime; returns the parse and memory limits."""
    if len(code) > MAX_CODE_LEN:
        raise CodeRejected(f"code of {len(code)} bytes exceeds {MAX_CODE_LEN}", "CodeTooLarge")
    m = parse_module(code)
    decompressed = 16 * m.instructions + m.data_bytes
    if decompressed > MAX_DECOMPRESSED_CODE:
        raise CodeRejected(
            f"DecompressedCodeTooLarge: 16 x {m.instructions} instructions + {m.data_bytes} "
            f"data bytes > {MAX_DECOMPRESSED_CODE}",
            "CodeTooLarge",
        )
    limits = _check_imports(m)
    _check_exports(m)
    if deterministic and m.float_use:
        raise CodeRejected(f"floats are not allowed in deterministic code ({m.float_use})")
    return m, limits


class Engine:
    """The wasmtime Engine and Linker (built once) and the compiled-module cache."""

    def __init__(self, cache_size: int = 256, module_store: ModuleStore | None = None) -> None:
        """`module_store` keeps wasmtime's serialized modules across runs (a trusted, local
        store: wasmtime loads those bytes as machine code without validating them)."""
        config = wasmtime.Config()
        config.consume_fuel = True
        self.engine = wasmtime.Engine(config)
        self.linker = wasmtime.Linker(self.engine)
        self.linker.allow_shadowing = True  # env.memory is redefined per instance
        self.active: Stack | None = None
        self._cache: OrderedDict[bytes, CheckedCode] = OrderedDict()
        self._cache_size = cache_size
        self.module_store = module_store
        for hf in HOST_FUNCTIONS.values():
            functype = wasmtime.FuncType(
                [_VALTYPE[c]() for c in hf.params], [_VALTYPE[c]() for c in hf.result]
            )
            self.linker.define_func(hf.module, hf.name, functype, self._bind(hf))

    def _bind(self, hf: HostFunction) -> Callable[..., Any]:
        """wasmtime passes i32/i64 as signed ints; pallet-contracts reads them as u32/u64."""
        impl, name = hf.impl, f"{hf.module}.{hf.name}"
        masks = tuple(_UNSIGNED[c] for c in hf.params)
        bits = {"i": 32, "I": 64}.get(hf.result, 0)

        def call_host(*args: int) -> Any:
            stack = self.active
            assert stack is not None, "host function called outside a call stack"
            stack.enter_host(name)
            result = impl(stack, *(a & m for a, m in zip(args, masks, strict=True)))
            stack.leave_host()
            if bits and result >= 1 << (bits - 1):
                return result - (1 << bits)
            return result

        return call_host

    def compile(self, code_hash: bytes, code: bytes, deterministic: bool) -> CheckedCode:
        """The compiled module for `code_hash`: from memory, from the module store, or checked
        and compiled now (then kept in both)."""
        known = self._known(code_hash)
        if known is not None:
            return known
        _, limits = check_code(code, deterministic)
        return self._build(code_hash, code, limits)

    def prepare(self, code_hash: bytes, code: bytes, limits: tuple[int, int]) -> CheckedCode:
        """Like `compile`, for code the caller has just put through `check_code`."""
        return self._known(code_hash) or self._build(code_hash, code, limits)

    def _known(self, code_hash: bytes) -> CheckedCode | None:
        cached = self._cache.get(code_hash)
        if cached is not None:
            self._cache.move_to_end(code_hash)
            return cached
        stored = self._from_store(code_hash)
        if stored is not None:
            self._remember(code_hash, stored)
        return stored

    def _build(self, code_hash: bytes, code: bytes, limits: tuple[int, int]) -> CheckedCode:
        try:
            module = wasmtime.Module(self.engine, code)
        except wasmtime.WasmtimeError as e:
            raise CodeRejected(f"invalid wasm: {str(e).splitlines()[0]}") from e
        checked = CheckedCode(module, limits)
        if self.module_store is not None:
            header = limits[0].to_bytes(4, "little") + limits[1].to_bytes(4, "little")
            self.module_store.save(code_hash, header + bytes(module.serialize()))
        self._remember(code_hash, checked)
        return checked

    def _from_store(self, code_hash: bytes) -> CheckedCode | None:
        """A module compiled earlier by this wasmtime; None if absent or not loadable."""
        if self.module_store is None:
            return None
        saved = self.module_store.load(code_hash)
        if saved is None or len(saved) < 8:
            return None
        try:
            module = wasmtime.Module.deserialize(self.engine, saved[8:])
        except wasmtime.WasmtimeError:
            return None  # another wasmtime version or configuration: compile again
        limits = (int.from_bytes(saved[:4], "little"), int.from_bytes(saved[4:8], "little"))
        return CheckedCode(module, limits)

    def forget_modules(self) -> None:
        """Drop the compiled modules kept in memory (the module store keeps its copies)."""
        self._cache.clear()

    def _remember(self, code_hash: bytes, checked: CheckedCode) -> None:
        self._cache[code_hash] = checked
        self._cache.move_to_end(code_hash)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
