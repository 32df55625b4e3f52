"""A deterministic development chain that serves what a Substrate node serves (see DESIGN.md).

`DevChain` (devnet/chain.py) is the chain itself; the WebSocket JSON-RPC server is built on it.
"""

from pinkpipe.devnet.chain import DevChain
from pinkpipe.devnet.config import DevnetConfig, DevnetError, NoSuchBlock
from pinkpipe.devnet.faults import Faults

__all__ = ["DevChain", "DevnetConfig", "DevnetError", "Faults", "NoSuchBlock"]
