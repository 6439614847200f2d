"""The judge's side of the worker: start it, send one scenario, wait, clean up.

Every call has a wall-clock limit. A crash, hang or exit in student code ends
that call with a ``CallOutcome`` that says what happened; the next call starts
a fresh worker. The client never raises because of anything the student did.
"""
from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .runtime import wire
from .sandbox import Sandbox

RUNTIME_DIR = Path(__file__).parent / "runtime"
BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from grader_runtime.main import main; main(sys.argv[2], sys.argv[3])"
CONTROL_CHARACTERS = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")


@dataclass
class CallOutcome:
    """What one call produced: a result, a student exception, or a failure of the worker."""

    scenario: str
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    failure: str | None = None
    output: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result is not None


@dataclass
class OutputBuffer:
    """The worker's stderr, kept up to a limit, split per call by end markers."""

    limit: int
    chunks: bytearray = field(default_factory=bytearray)
    dropped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    marked: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.marked = threading.Condition(self.lock)

    def append(self, data: bytes) -> None:
        with self.lock:
            room = max(0, self.limit * 2 - len(self.chunks))  # room for markers past the limit
            self.chunks += data[:room]
            self.dropped += len(data) - min(len(data), room)
            self.marked.notify_all()

    def take(self, marker: bytes, wait: float) -> str:
        with self.lock:
            self.marked.wait_for(lambda: marker in self.chunks, timeout=wait)
            raw = bytes(self.chunks).split(marker, 1)[0]
            self.chunks.clear()
            dropped, self.dropped = self.dropped + max(0, len(raw) - self.limit), 0
        text = CONTROL_CHARACTERS.sub("", raw[: self.limit].decode("utf-8", errors="replace"))
        return text + (f"\n[... {dropped} more bytes of output dropped]" if dropped else "")


class Worker:
    """One worker process for one part of the assignment, restarted after a failure."""

    def __init__(self, part: str, stage: Path, sandbox: Sandbox, start_seconds: float) -> None:
        self.part, self.stage, self.sandbox, self.start_seconds = part, stage, sandbox, start_seconds
        self.process: subprocess.Popen[bytes] | None = None
        self.frames: queue.Queue[Any] = queue.Queue()
        self.output = OutputBuffer(sandbox.limits.output_kib * 1024)
        self.ready = False
        self.next_id = 0

    def start(self) -> None:
        """Start the process without waiting for it: imports overlap with the judge's."""
        home = self.stage / f"home-{self.part}"
        self.sandbox.prepare_home(home)
        command = [sys.executable, "-I", "-c", BOOT, str(self.stage / "lib"), str(self.stage / "submission"), self.part]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **self.sandbox.popen_options(home)
        )
        self.frames = queue.Queue()
        self.ready = False
        threading.Thread(target=self._read_frames, args=(self.process,), daemon=True).start()
        threading.Thread(target=self._read_output, args=(self.process,), daemon=True).start()

    def _read_frames(self, process: subprocess.Popen[bytes]) -> None:
        try:
            while True:
                self.frames.put(wire.read_frame(process.stdout))  # type: ignore[arg-type]
        except (EOFError, wire.WireError, OSError, ValueError) as error:
            self.frames.put(error)

    def _read_output(self, process: subprocess.Popen[bytes]) -> None:
        for chunk in iter(lambda: process.stderr.read1(65536), b""):  # type: ignore[union-attr]
            self.output.append(chunk)

    def call(self, scenario: str, args: dict[str, Any], timeout: float) -> CallOutcome:
        outcome = CallOutcome(scenario)
        if self.process is None or self.process.poll() is not None:
            self.start()
        startup = self._await_ready()
        if startup:
            outcome.failure = startup
            return outcome
        self.next_id += 1
        began = time.monotonic()
        try:
            wire.write_frame(self.process.stdin, {"id": self.next_id, "scenario": scenario, "args": args})  # type: ignore[union-attr, arg-type]
            reply = self.frames.get(timeout=timeout)
        except queue.Empty:
            reply = TimeoutError(f"did not finish within the time limit of {timeout:.0f} s (an endless loop, or far too slow)")
        except OSError as error:
            reply = error
        outcome.seconds = time.monotonic() - began
        outcome.output = self.output.take(wire.end_marker(self.next_id), wait=0.5 if isinstance(reply, dict) else 0.0)
        self._settle(outcome, reply)
        return outcome

    def _await_ready(self) -> str | None:
        if self.ready:
            return None
        try:
            first = self.frames.get(timeout=self.start_seconds)
        except queue.Empty:
            first = TimeoutError(f"worker did not start within {self.start_seconds:.0f} s")
        if isinstance(first, dict) and first.get("ready"):
            self.ready = True
            return None
        self.stop()
        return f"the worker could not start: {describe_death(first, self.process)}"

    def _settle(self, outcome: CallOutcome, reply: Any) -> None:
        if isinstance(reply, dict) and reply.get("id") == self.next_id:
            if reply.get("ok"):
                outcome.result = reply.get("result") if isinstance(reply.get("result"), dict) else {}
            else:
                outcome.error = reply.get("error") if isinstance(reply.get("error"), dict) else {"type": "Error", "message": ""}
            self.sandbox.kill_strays(self.process.pid if self.process else None)
            return
        outcome.failure = describe_death(reply, self.process)
        self.stop()

    def stop(self) -> None:
        if self.process is None:
            return
        self.sandbox.kill_all(self.process.pid)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass
        self.process = None


def describe_death(reply: Any, process: subprocess.Popen[bytes] | None) -> str:
    """Why the worker stopped answering, in the student's terms."""
    if isinstance(reply, TimeoutError):
        return str(reply)
    code = process.wait(timeout=5) if process is not None else None
    if code is None:
        return f"the worker sent an unreadable reply ({reply})"
    if code < 0:
        name = signal.Signals(-code).name
        hints = {"SIGSEGV": "a crash in native code", "SIGKILL": "killed, e.g. for using too much memory", "SIGXFSZ": "a file larger than the limit was written", "SIGXCPU": "too much CPU time"}
        return f"the worker died from {name} ({hints.get(name, 'a signal')})"
    return f"the worker exited with code {code} during the call (sys.exit or os._exit in student code?)"
