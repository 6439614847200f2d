"""The worker's loop: import the submission lazily, run named scenarios.

Started by the judge as ``python -I -c BOOT LIB_DIR SUBMISSION_DIR PART``. The
protocol uses private copies of stdin/stdout; the student's prints go to
stderr, which the judge captures and truncates.
"""
from __future__ import annotations

import importlib.abc
import os
import sys
import traceback
from typing import Any, BinaryIO, Callable

from . import scenarios, wire

# Part 1 may use NumPy and the standard library only (the contract).
ALLOWED_IN_PART1 = ("numpy", "part1_scratch", "grader_runtime")


class ForbiddenImportBlocker(importlib.abc.MetaPathFinder):
    """Second line behind the judge's source check: refuse any other import."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        top = name.split(".")[0]
        if top not in ALLOWED_IN_PART1 and top not in sys.stdlib_module_names:
            raise ImportError(f"import of '{name}' is not allowed in Part 1 (NumPy and the standard library only)")
        return None


def take_protocol_streams() -> tuple[BinaryIO, BinaryIO]:
    """Keep stdin/stdout for the protocol; point fd 0 at /dev/null and fd 1 at stderr."""
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return requests, replies


def describe_error(error: BaseException, submission_dir: str) -> dict[str, Any]:
    """Type, message and the student's own frames of the traceback."""
    frames = [
        f"{os.path.basename(frame.filename)}, line {frame.lineno}, in {frame.name}: {(frame.line or '').strip()}"
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename.startswith(submission_dir)
    ]
    if isinstance(error, SyntaxError) and error.filename:
        frames.append(f"{os.path.basename(error.filename)}, line {error.lineno}: {(error.text or '').strip()}")
    return {"type": type(error).__name__, "message": str(error)[:2000], "frames": frames[-5:]}


def serve(requests: BinaryIO, replies: BinaryIO, submission_dir: str) -> None:
    while True:
        request = wire.read_frame(requests)
        handler: Callable[..., Any] = scenarios.REGISTRY[request["scenario"]]
        try:
            reply = {"ok": True, "result": handler(**request["args"])}
        except BaseException as error:  # SystemExit and KeyboardInterrupt from student code too
            reply = {"ok": False, "error": describe_error(error, submission_dir)}
        sys.stderr.flush()
        os.write(2, wire.end_marker(request["id"]))
        wire.write_frame(replies, {"id": request["id"], **reply})


def main(submission_dir: str, part: str) -> None:
    requests, replies = take_protocol_streams()
    sys.path.insert(0, submission_dir)
    sys.dont_write_bytecode = True
    scenarios.preload(part)
    if part == "part1":
        sys.meta_path.insert(0, ForbiddenImportBlocker())
    wire.write_frame(replies, {"ready": True, "pid": os.getpid()})
    try:
        serve(requests, replies, submission_dir)
    except EOFError:
        os._exit(0)
