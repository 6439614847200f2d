"""The wire format between judge and worker: length-prefixed JSON frames.

Arrays travel as ``{"__ndarray__": <base64 of a .npy file>}`` and are read back
with ``np.load(allow_pickle=False)``: the judge never unpickles anything the
worker sends, because unpickling runs code. This module is imported by both
sides, so it uses nothing but the standard library and NumPy.
"""
from __future__ import annotations

import base64
import io
import json
import struct
from typing import Any, BinaryIO

import numpy as np

HEADER = struct.Struct(">Q")
MAX_FRAME_BYTES = 64 * 1024 * 1024
NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float


class WireError(ValueError):
    """A frame or value that the judge refuses to accept."""


class RejectedValue(WireError):
    """A complete frame whose content the judge refuses; the stream itself is still in step."""


def _encode_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return {"__ndarray__": base64.b64encode(buffer.getvalue()).decode("ascii")}
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot send {type(value).__name__} over the wire")


def _decode_object(obj: dict[str, Any]) -> Any:
    if set(obj) != {"__ndarray__"}:
        return obj
    try:
        raw = base64.b64decode(obj["__ndarray__"], validate=True)
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except Exception as error:  # a malformed array is the sender's fault
        raise RejectedValue(f"malformed array: {error}") from None
    if type(array) is not np.ndarray or array.dtype.kind not in NUMERIC_KINDS or array.dtype.fields is not None:
        raise RejectedValue(f"array of dtype {array.dtype} is not a plain numeric array")
    return array


def dumps(message: Any) -> bytes:
    """Serialise a message of dicts, lists, scalars and ndarrays."""
    return json.dumps(message, default=_encode_default).encode("utf-8")


def loads(data: bytes) -> Any:
    """Parse a message; arrays come back as plain ``np.ndarray``."""
    try:
        return json.loads(data.decode("utf-8"), object_hook=_decode_object)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise RejectedValue(f"malformed frame: {error}") from None


def end_marker(request_id: int) -> bytes:
    """Written to the output stream after each call, so output is split per call."""
    return f"\n\x00end-of-call-{request_id}\x00\n".encode()


def encode_frame(message: Any) -> bytes:
    """One frame: length header and JSON payload (raises if ``message`` holds something that cannot be sent)."""
    payload = dumps(message)
    return HEADER.pack(len(payload)) + payload


def write_frame(stream: BinaryIO, message: Any) -> None:
    stream.write(encode_frame(message))
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    """Read one frame; ``EOFError`` when the other side has gone."""
    header = _read_exactly(stream, HEADER.size)
    (length,) = HEADER.unpack(header)
    if length > MAX_FRAME_BYTES:
        raise WireError(f"frame of {length} bytes exceeds the limit")
    return loads(_read_exactly(stream, length))


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            raise EOFError("stream closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
