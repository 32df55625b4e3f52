"""A deterministic development chain that serves what a Substrate node serves (see DESIGN.md).

`DevChain` (devnet/chain.py) is the chain itself; the WebSocket JSON-RPC server is built on it.
"""

from devnet.chain import DevChain
from devnet.config import DevnetConfig, DevnetError, UnknownBlock
from devnet.faults import Faults

__all__ = ["DevChain", "DevnetConfig", "DevnetError", "Faults", "UnknownBlock"]
