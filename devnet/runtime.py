"""The runtime the devnet claims to run: its metadata, version and call indices.

The devnet serves the V14 metadata of the standalone Phala development node (shipped as package
data, a copy of the shared test vector), so standard Substrate tools can decode its blocks.
Everything the chain needs from it (the `Timestamp.set` call index, the `RuntimeVersion`
constant) is read from that metadata rather than hard-coded. Decoding the metadata with
scalecodec takes about a second, so it is done once per process and file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from scalecodec.base import RuntimeConfiguration, ScaleBytes
from scalecodec.type_registry import load_type_registry_preset

from pinkpipe.chain.scale import CodecError, Reader
from pinkpipe.devnet.config import DevnetError

PACKAGED_METADATA_NAME = "phala_standalone_metadata.scale"
"""Package data of `pinkpipe.devnet`: a byte-identical copy of the shared vector
`../shared/vectors/phala/phala_standalone_metadata.scale`, so an installed wheel runs alone."""
METADATA_ENV = "PINKPIPE_DEVNET_METADATA"
"""Environment variable naming another metadata file (used when no path is configured)."""


def packaged_metadata() -> Traversable:
    """The metadata shipped inside the package (importlib.resources: works from a wheel)."""
    return resources.files("pinkpipe.devnet").joinpath(PACKAGED_METADATA_NAME)


def metadata_path(configured: Path | None = None) -> Path | Traversable:
    """The metadata file to serve: the configured one, else `$PINKPIPE_DEVNET_METADATA`,
    else the packaged copy."""
    if configured is not None:
        return configured
    from_env = os.environ.get(METADATA_ENV)
    return Path(from_env) if from_env else packaged_metadata()


@dataclass(frozen=True)
class RuntimeInfo:
    """What the devnet needs from the metadata, plus the decoded metadata for others to reuse."""

    metadata: bytes
    decoded: Any
    """scalecodec's decoded `MetadataVersioned` (use `.value` for the plain dict form)."""
    call_indices: dict[tuple[str, str], tuple[int, int]]
    """(pallet, call) -> (pallet index, call index), for every call of every pallet."""
    version: dict[str, Any]
    """The `System::Version` constant in the node's `state_getRuntimeVersion` JSON shape."""

    def call_index(self, pallet: str, call: str) -> tuple[int, int]:
        try:
            return self.call_indices[(pallet, call)]
        except KeyError:
            raise DevnetError(f"the metadata has no call {pallet}.{call}") from None


def _read_str(r: Reader) -> str:
    return r.var_bytes("String").decode()


def decode_runtime_version(data: bytes) -> dict[str, Any]:
    """SCALE `RuntimeVersion` (with the trailing `state_version: u8` of 2022 runtimes) to JSON."""
    r = Reader(data)
    try:
        out: dict[str, Any] = {
            "specName": _read_str(r),
            "implName": _read_str(r),
            "authoringVersion": r.u32(),
            "specVersion": r.u32(),
            "implVersion": r.u32(),
            "apis": r.vec(lambda rr: ["0x" + rr.fixed(8, "ApiId").hex(), rr.u32()], "ApisVec", 12),
            "transactionVersion": r.u32(),
        }
        out["stateVersion"] = r.u8("state_version") if r.remaining else 0
        r.finish("RuntimeVersion")
    except CodecError as e:
        raise DevnetError(f"metadata's System::Version constant does not decode: {e}") from None
    return out


def _call_indices(metadata: dict[str, Any]) -> dict[tuple[str, str], tuple[int, int]]:
    types = {t["id"]: t["type"] for t in metadata["types"]["types"]}
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for pallet in metadata["pallets"]:
        calls = pallet.get("calls")
        if not calls:
            continue
        for variant in types[calls["ty"]]["def"]["variant"]["variants"]:
            out[(pallet["name"], variant["name"])] = (pallet["index"], variant["index"])
    return out


def system_constant(decoded: Any, name: str) -> bytes:
    """The raw SCALE bytes of a `System` pallet constant of decoded V14 metadata.

    Read from the scale objects, not the plain value form: that one turns byte strings that
    happen to be valid UTF-8 into text, which cannot be told apart from hex.
    """
    v14 = decoded.value_object[1].value_object[1]
    for pallet in v14.value_object["pallets"].value_object:
        if pallet.value_object["name"].value != "System":
            continue
        for constant in pallet.value_object["constants"].value_object:
            if constant.value_object["name"].value == name:
                return bytes(constant.value_object["value"].value_object)
    raise DevnetError(f"the metadata has no System::{name} constant")


def load_runtime(path: Path | None = None) -> RuntimeInfo:
    """Read and decode a V14 metadata file (`metadata_path(path)`, cached per file)."""
    source = metadata_path(path)
    return _load_runtime(source.resolve() if isinstance(source, Path) else source)


@lru_cache(maxsize=4)
def _load_runtime(path: Path | Traversable) -> RuntimeInfo:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DevnetError(
            f"cannot read the devnet metadata {path}: {e.strerror or e}. The devnet serves the "
            f"Phala standalone metadata, by default the copy packaged with pinkpipe (the bytes of "
            f"../shared/vectors/phala/phala_standalone_metadata.scale); point "
            f"`pinkpipe devnet --metadata FILE`, the {METADATA_ENV} environment variable "
            f"or DevnetConfig.metadata_path at a copy of it"
        ) from None
    config = RuntimeConfiguration()
    config.update_type_registry(load_type_registry_preset("core"))
    decoded = config.create_scale_object("MetadataVersioned", data=ScaleBytes(data))
    try:
        decoded.decode()
    except Exception as e:
        raise DevnetError(f"cannot decode metadata {path}: {e}") from None
    versions = decoded.value[1]
    if "V14" not in versions:
        raise DevnetError(f"metadata {path} is {next(iter(versions))}, expected V14")
    v14 = versions["V14"]
    return RuntimeInfo(
        metadata=data,
        decoded=decoded,
        call_indices=_call_indices(v14),
        version=decode_runtime_version(system_constant(decoded, "Version")),
    )
