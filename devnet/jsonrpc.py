"""The JSON-RPC error answer, one type for the server and for the extrinsic pool (whose
rejections are the errors a node's author API answers)."""

from __future__ import annotations

from typing import Any

from pinkpipe.devnet.config import DevnetError


class JsonRpcError(DevnetError):
    """A JSON-RPC error answer: `code`, `message` and optional `data`, as a node sends them
    (named apart from the relayer's `RpcError`, which is a node's answer as a client sees it)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{code} {message}" + ("" if data is None else f": {data}"))
        self.code = code
        self.message = message
        self.data = data

    def error_object(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            out["data"] = self.data
        return out
