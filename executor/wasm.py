"""A strict reader of the WebAssembly binary format, just deep enough for upload checks.

pallet-contracts v1.5 (`wasm/prepare.rs`) validates code with wasmi 0.31's parser configured for
the MVP plus sign-extension only, and Pink (`capi/ecall_impl.rs upload_code`, through
`phala_wasm_checker`) counts operators before that. wasmtime accepts far more (reference types,
SIMD, bulk memory, multi-value, tail calls), so this module walks every instruction itself: it
refuses opcodes outside the enabled feature set, reports float use, and counts instructions.
Sections follow the WebAssembly core spec 1.0, section 5 (binary format).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pinkpipe.executor.errors import CodeRejected

MAGIC = b"\x00asm\x01\x00\x00\x00"

I32, I64, F32, F64 = 0x7F, 0x7E, 0x7D, 0x7C
VALUE_TYPES = {I32: "i32", I64: "i64", F32: "f32", F64: "f64"}
FLOAT_TYPES = frozenset({F32, F64})

# Opcodes with no immediate (MVP numeric, parametric and control instructions).
# 0xC0-0xC4 are sign-extension, which pallet-contracts' wasmi config enables.
_PLAIN = frozenset([0x00, 0x01, 0x05, 0x0B, 0x0F, 0x1A, 0x1B, *range(0x45, 0xC5)])
_MEMARG = frozenset(range(0x28, 0x3F))
_INDEX = frozenset([0x0C, 0x0D, 0x10, 0x20, 0x21, 0x22, 0x23, 0x24])
_BLOCK = frozenset([0x02, 0x03, 0x04])
# Float instructions: f32/f64 loads, stores, consts, comparisons, arithmetic and conversions.
_FLOAT_OPS = frozenset(
    [0x2A, 0x2B, 0x38, 0x39, 0x43, 0x44, *range(0x5B, 0x67), *range(0x8B, 0xA7)]
).union([0xA8, 0xA9, 0xAA, 0xAB, 0xAE, 0xAF, 0xB0, 0xB1, *range(0xB2, 0xC0)])
# Proposals pallet-contracts leaves off, by first opcode byte, for a clear refusal.
_DISABLED = {
    0x12: "tail-call",
    0x13: "tail-call",
    0x1C: "reference-types",
    0x25: "reference-types",
    0x26: "reference-types",
    0xD0: "reference-types",
    0xD1: "reference-types",
    0xD2: "reference-types",
    0xFD: "simd",
    0xFE: "threads",
}


@dataclass(frozen=True)
class FuncType:
    params: tuple[int, ...]
    results: tuple[int, ...]

    def describe(self) -> str:
        def names(types: tuple[int, ...]) -> str:
            return ", ".join(VALUE_TYPES.get(t, hex(t)) for t in types)

        return f"({names(self.params)}) -> ({names(self.results)})"


@dataclass(frozen=True)
class Import:
    module: str
    name: str
    kind: int  # 0 func, 1 table, 2 memory, 3 global
    type_index: int = 0
    limits: tuple[int, int | None] = (0, None)
    shared: bool = False


@dataclass(frozen=True)
class Export:
    name: str
    kind: int
    index: int


@dataclass
class WasmModule:
    """What the checks need from a module; filled by `parse_module`."""

    types: list[FuncType] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    functions: list[int] = field(default_factory=list)  # type index of each defined function
    memories: int = 0
    globals_float: bool = False
    exports: list[Export] = field(default_factory=list)
    start: int | None = None
    instructions: int = 0
    data_bytes: int = 0
    float_use: str | None = None  # where floats first appear, if anywhere

    def function_type(self, index: int) -> FuncType:
        """Type of function `index` in the joint (imports first) function index space."""
        imported = [i for i in self.imports if i.kind == 0]
        if index < len(imported):
            return self.types[imported[index].type_index]
        if index - len(imported) >= len(self.functions):
            raise CodeRejected(f"invalid wasm: function index {index} does not exist")
        return self.types[self.functions[index - len(imported)]]


class _Cursor:
    """Bounds-checked reads over a section; every failure is a `CodeRejected`."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def fail(self, reason: str) -> CodeRejected:
        return CodeRejected(f"invalid wasm at byte {self.pos}: {reason}")

    def byte(self) -> int:
        if self.pos >= self.end:
            raise self.fail("unexpected end")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def bytes(self, n: int) -> bytes:
        if n > self.end - self.pos:
            raise self.fail(f"needs {n} bytes, {self.end - self.pos} left")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def _leb(self, bits: int, signed: bool) -> int:
        """LEB128 of at most `bits` bits (spec 5.2.2): overlong encodings are refused."""
        value = shift = 0
        while True:
            b = self.byte()
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
            if shift >= bits + 7:
                raise self.fail(f"LEB128 longer than {'s' if signed else 'u'}{bits}")
        if signed:
            return value - (1 << shift) if b & 0x40 else value
        if value >= 1 << bits:
            raise self.fail(f"LEB128 value exceeds u{bits}")
        return value

    def uleb(self, bits: int = 32) -> int:
        return self._leb(bits, signed=False)

    def sleb(self, bits: int) -> int:
        return self._leb(bits, signed=True)

    def name(self) -> str:
        raw = self.bytes(self.uleb())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise self.fail("name is not UTF-8") from e

    def valtype(self) -> int:
        t = self.byte()
        if t not in VALUE_TYPES:
            raise self.fail(f"value type 0x{t:02x} not allowed (reference/SIMD types are off)")
        return t

    def limits(self) -> tuple[int, int | None, bool]:
        flags = self.byte()
        if flags not in (0, 1, 3):
            raise self.fail(f"limits flag 0x{flags:02x} not allowed")
        minimum = self.uleb()
        maximum = self.uleb() if flags & 1 else None
        return minimum, maximum, flags == 3


def _read_types(c: _Cursor, m: WasmModule) -> None:
    for _ in range(c.uleb()):
        if c.byte() != 0x60:
            raise c.fail("function type must start with 0x60")
        params = tuple(c.valtype() for _ in range(c.uleb()))
        results = tuple(c.valtype() for _ in range(c.uleb()))
        if len(results) > 1:
            raise c.fail("multi-value results are not enabled")
        m.types.append(FuncType(params, results))


def _read_imports(c: _Cursor, m: WasmModule) -> None:
    for _ in range(c.uleb()):
        module, name, kind = c.name(), c.name(), c.byte()
        if kind == 0:
            index = c.uleb()
            if index >= len(m.types):
                raise c.fail(f"import {module}.{name} names unknown type {index}")
            m.imports.append(Import(module, name, 0, type_index=index))
        elif kind == 2:
            minimum, maximum, shared = c.limits()
            m.imports.append(Import(module, name, 2, limits=(minimum, maximum), shared=shared))
        elif kind in (1, 3):
            raise CodeRejected(
                f"import {module}.{name}: {'table' if kind == 1 else 'global'} imports are not "
                "allowed (only functions and env.memory)"
            )
        else:
            raise c.fail(f"import kind {kind} unknown")


def _read_functions(c: _Cursor, m: WasmModule) -> None:
    for _ in range(c.uleb()):
        index = c.uleb()
        if index >= len(m.types):
            raise c.fail(f"function names unknown type {index}")
        m.functions.append(index)


def _read_tables(c: _Cursor, m: WasmModule) -> None:
    for _ in range(c.uleb()):
        if c.byte() != 0x70:
            raise c.fail("table element type must be funcref")
        c.limits()


def _read_memories(c: _Cursor, m: WasmModule) -> None:
    m.memories += c.uleb()
    for _ in range(m.memories):
        c.limits()


_CONST_IMMEDIATE = {0x41: (True, 32), 0x42: (True, 64), 0x43: (False, 4), 0x44: (False, 8)}


def _skip_const(c: _Cursor, op: int) -> None:
    """The immediate of i32/i64.const (signed LEB128) or f32/f64.const (raw bytes)."""
    leb, size = _CONST_IMMEDIATE[op]
    if leb:
        c.sleb(size)
    else:
        c.bytes(size)


def _read_const_expr(c: _Cursor) -> None:
    op = c.byte()
    if op in _CONST_IMMEDIATE:
        _skip_const(c, op)
    elif op == 0x23:
        c.uleb()
    else:
        raise c.fail(f"opcode 0x{op:02x} not allowed in a constant expression")
    if c.byte() != 0x0B:
        raise c.fail("constant expression must end after one instruction")


def _read_globals(c: _Cursor, m: WasmModule) -> None:
    for _ in range(c.uleb()):
        if c.valtype() in FLOAT_TYPES:
            m.globals_float = True
        if c.byte() not in (0, 1):
            raise c.fail("global mutability must be 0 or 1")
        _read_const_expr(c)


def _read_exports(c: _Cursor, m: WasmModule) -> None:
    for _ in range(c.uleb()):
        name, kind = c.name(), c.byte()
        m.exports.append(Export(name, kind, c.uleb()))


def _read_elements(c: _Cursor, m: WasmModule) -> None:
    for _ in range(c.uleb()):
        if c.uleb() != 0:
            raise c.fail("only MVP active element segments on table 0 are allowed")
        _read_const_expr(c)
        for _ in range(c.uleb()):
            c.uleb()


def _read_data(c: _Cursor, m: WasmModule) -> None:
    for _ in range(c.uleb()):
        if c.uleb() != 0:
            raise c.fail("only MVP active data segments on memory 0 are allowed (bulk memory off)")
        _read_const_expr(c)
        size = c.uleb()
        c.bytes(size)
        m.data_bytes += size


def _read_block_type(c: _Cursor) -> int | None:
    t = c.byte()
    if t == 0x40:
        return None
    if t not in VALUE_TYPES:
        raise c.fail("block type indices (multi-value) are not enabled")
    return t


def _walk_body(c: _Cursor, m: WasmModule, func: int) -> None:
    """Every instruction of one function body; counts them and notes the first float."""
    depth = 1
    while depth:
        op = c.byte()
        m.instructions += 1
        if op in _FLOAT_OPS and m.float_use is None:
            m.float_use = f"function {func}: float instruction 0x{op:02x}"
        if op in _PLAIN:
            if op == 0x0B:
                depth -= 1
            continue
        if op in _BLOCK:
            t = _read_block_type(c)
            if t in FLOAT_TYPES and m.float_use is None:
                m.float_use = f"function {func}: float block type"
            depth += 1
        elif op in _MEMARG:
            c.uleb()
            c.uleb()
        elif op in _INDEX:
            c.uleb()
        elif op == 0x0E:
            for _ in range(c.uleb()):
                c.uleb()
            c.uleb()
        elif op == 0x11:
            c.uleb()
            if c.byte() != 0:
                raise c.fail("call_indirect must use table 0")
        elif op in (0x3F, 0x40):
            if c.byte() != 0:
                raise c.fail("memory.size/grow must use memory 0")
        elif op in _CONST_IMMEDIATE:
            _skip_const(c, op)
        elif op == 0xFC:
            sub = c.uleb()
            feature = "saturating float-to-int" if sub < 8 else "bulk-memory"
            raise c.fail(f"function {func}: {feature} instructions are not enabled")
        elif op in _DISABLED:
            raise c.fail(f"function {func}: {_DISABLED[op]} instructions are not enabled")
        else:
            raise c.fail(f"function {func}: unknown opcode 0x{op:02x}")


def _read_code(c: _Cursor, m: WasmModule) -> None:
    count = c.uleb()
    if count != len(m.functions):
        raise c.fail(f"{count} function bodies for {len(m.functions)} declared functions")
    imported = sum(1 for i in m.imports if i.kind == 0)
    for n in range(count):
        size = c.uleb()
        body = _Cursor(c.data, c.pos, c.pos + size)
        if body.end > c.end:
            raise c.fail(f"function body {n} overruns the code section")
        for _ in range(body.uleb()):
            body.uleb()
            if body.valtype() in FLOAT_TYPES and m.float_use is None:
                m.float_use = f"function {imported + n}: float local"
        _walk_body(body, m, imported + n)
        if body.pos != body.end:
            raise body.fail(f"function body {n} has bytes after its final end")
        c.pos = body.end


_SECTIONS = {
    1: _read_types,
    2: _read_imports,
    3: _read_functions,
    4: _read_tables,
    5: _read_memories,
    6: _read_globals,
    7: _read_exports,
    9: _read_elements,
    10: _read_code,
    11: _read_data,
}


def parse_module(code: bytes) -> WasmModule:
    """Parse and check the structure of `code`; raises `CodeRejected` naming byte and reason."""
    if code[:8] != MAGIC:
        raise CodeRejected("invalid wasm: missing the \\0asm version 1 header")
    m = WasmModule()
    c = _Cursor(code, 8)
    last = 0
    while c.pos < c.end:
        section = c.byte()
        size = c.uleb()
        body = _Cursor(code, c.pos, c.pos + size)
        if body.end > c.end:
            raise c.fail(f"section {section} overruns the module")
        if section == 0:
            body.name()
        elif section == 8:
            m.start = body.uleb()
        elif section == 12:
            raise c.fail("data count section (bulk memory) is not enabled")
        elif section in _SECTIONS:
            if section <= last:
                raise c.fail(f"section {section} out of order or repeated")
            last = section
            _SECTIONS[section](body, m)
        else:
            raise c.fail(f"unknown section id {section}")
        if section != 0 and body.pos != body.end:
            raise body.fail(f"section {section} has trailing bytes")
        c.pos = body.end
    if m.functions and last < 10:
        raise CodeRejected("invalid wasm: functions declared without a code section")
    for t in m.types:
        if FLOAT_TYPES & {*t.params, *t.results} and m.float_use is None:
            m.float_use = f"function type {t.describe()}"
    if m.globals_float and m.float_use is None:
        m.float_use = "a float global"
    return m
