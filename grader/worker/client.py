"""The judge's side of the worker: start it, send one scenario, wait, clean up.

Every call has a wall-clock limit (and, when confined, a CPU limit and a watch
on processes and memory). A crash, hang or exit in student code ends that call
with a ``CallOutcome`` that says what happened; the next call gets a fresh
worker. So does a call that left state behind in the worker (a thread, a
signal handler, a patched module), so that it cannot reach into the calls of
other components. The client never raises because of anything the student did.
"""
from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import isolation
from .runtime import wire
from .sandbox import Sandbox
from .zygote import Zygote

RUNTIME_DIR = Path(__file__).parent / "runtime"
BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from grader_runtime.main import main; main(*sys.argv[2:])"
# ANSI escape sequences, control characters (not tab or newline) and bidirectional overrides: the student's output is shown as plain text.
CONTROL_CHARACTERS = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
WATCH_SECONDS = 0.25  # how often the judge looks at the workers' processes and memory during a call


@dataclass
class CallOutcome:
    """What one call produced: a result, a student exception, or a failure of the worker."""

    scenario: str
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    failure: str | None = None
    output: str = ""
    seconds: float = 0.0
    timed_out: bool = False
    internal: str | None = None  # the grader's own mistake, found by the worker before any student code ran

    @property
    def ok(self) -> bool:
        return self.result is not None


class Overuse(Exception):
    """The workers broke a limit the judge watches (processes, memory)."""


@dataclass
class OutputBuffer:
    """The worker's stderr, split per call at the end markers the worker writes; each call's share kept up to a limit.

    Scanning goes on past the limit, so a flood of output never hides the end
    of a call; what is dropped is only counted.
    """

    limit: int
    kept: bytearray = field(default_factory=bytearray)
    dropped: int = 0
    pending: bytes = b""  # the last bytes seen, which may be the start of a marker
    finished: dict[int, tuple[bytes, int]] = field(default_factory=dict)  # call id -> (kept, dropped)
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)

    MARKER = re.compile(rb"\n\x00end-of-call-(\d{1,18})\x00\n")
    LONGEST_MARKER = 40

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def _keep(self, data: bytes) -> None:
        room = max(0, self.limit - len(self.kept))
        self.kept += data[:room]
        self.dropped += max(0, len(data) - room)

    def append(self, data: bytes) -> None:
        with self.lock:
            data = self.pending + data
            start = 0
            for match in self.MARKER.finditer(data):
                self._keep(data[start : match.start()])
                self.finished[int(match.group(1))] = (bytes(self.kept), self.dropped)
                self.kept, self.dropped = bytearray(), 0
                start = match.end()
            while len(self.finished) > 8:  # fake markers printed by the student cannot grow this
                del self.finished[min(self.finished)]
            rest = data[start:]
            cut = max(0, len(rest) - self.LONGEST_MARKER)
            self._keep(rest[:cut])
            self.pending = rest[cut:]
            self.changed.notify_all()

    def take(self, call_id: int, wait: float) -> str:
        """The output of call ``call_id``: what came before its end marker (waiting up to ``wait`` s for it), or all there is."""
        with self.lock:
            self.changed.wait_for(lambda: call_id in self.finished, timeout=wait)
            if call_id in self.finished:
                raw, dropped = self.finished[call_id]
            else:
                self._keep(self.pending)
                raw, dropped = bytes(self.kept), self.dropped
                self.kept, self.dropped, self.pending = bytearray(), 0, b""
            for old in [key for key in self.finished if key <= call_id]:
                del self.finished[old]
        text = CONTROL_CHARACTERS.sub("", raw.decode("utf-8", errors="replace"))
        return text + (f"\n[... {dropped} more bytes of output dropped]" if dropped else "")


class Worker:
    """One worker process for one part of the assignment, restarted after a failure."""

    def __init__(self, part: str, stage: Path, sandbox: Sandbox, start_seconds: float, zygote: Zygote | None = None) -> None:
        self.part, self.stage, self.sandbox, self.start_seconds, self.zygote = part, stage, sandbox, start_seconds, zygote
        self.process: Any = None  # a subprocess.Popen, or a zygote.ForkedProcess
        self.frames: queue.Queue[Any] = queue.Queue()
        self.output = OutputBuffer(sandbox.limits.output_kib * 1024)
        self.ready = False
        self.next_id = 0
        self.confinement: dict[str, Any] | None = None  # what the last worker started reported it applied to itself

    def start(self) -> None:
        """Start the process without waiting for it: imports overlap with the judge's."""
        home = self.stage / f"home-{self.part}"
        self.sandbox.prepare_home(home)
        args = [str(self.stage / "submission"), self.part, json.dumps(self.sandbox.worker_limits()), isolation.worker_options()]
        self.process = self._fork(home, args) if self.zygote is not None else None
        if self.process is None:
            command = [sys.executable, "-I", "-c", BOOT, str(self.stage / "lib"), *args]
            command, options = isolation.launch(command, self.sandbox.popen_options(home))
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **options)
        self.sandbox.started(self.process.pid)
        self.frames = queue.Queue()
        self.output = OutputBuffer(self.sandbox.limits.output_kib * 1024)
        self.ready = False
        threading.Thread(target=self._read_frames, args=(self.process, self.frames), daemon=True).start()
        threading.Thread(target=self._read_output, args=(self.process, self.output), daemon=True).start()

    def _fork(self, home: Path, args: list[str]) -> Any:
        """A worker forked by the zygote (sharing its torch), or None when the zygote cannot: then it is started by exec."""
        try:
            return self.zygote.spawn(self.sandbox.fork_setup(home, self.stage / "lib", args))  # type: ignore[union-attr]
        except OSError:
            self.zygote = None
            return None

    @staticmethod
    def _read_frames(process: subprocess.Popen[bytes], frames: queue.Queue[Any]) -> None:
        while True:
            try:
                frames.put(wire.read_frame(process.stdout))  # type: ignore[arg-type]
            except wire.RejectedValue as error:
                frames.put(error)  # the stream is still in step
            except (EOFError, wire.WireError, OSError, ValueError) as error:
                frames.put(error)
                return

    @staticmethod
    def _read_output(process: subprocess.Popen[bytes], output: OutputBuffer) -> None:
        try:
            for chunk in iter(lambda: process.stderr.read1(65536), b""):  # type: ignore[union-attr]
                output.append(chunk)
        except (OSError, ValueError):
            pass

    def call(self, scenario: str, args: dict[str, Any], timeout: float, not_again: dict[str, str] | None = None) -> CallOutcome:
        """Run ``scenario`` within ``timeout`` s; the functions named in ``not_again`` (``module:qualname``) raise their message instead of running."""
        outcome = CallOutcome(scenario)
        if self.process is None or self.process.poll() is not None:
            self.stop()
            self.start()
        startup = self._await_ready()
        if startup:
            outcome.failure = startup
            return outcome
        self.next_id += 1
        request = {"id": self.next_id, "scenario": scenario, "args": args, "cpu_seconds": self.sandbox.cpu_seconds(timeout), "not_again": not_again or {}}
        began = time.monotonic()
        try:
            wire.write_frame(self.process.stdin, request)  # type: ignore[union-attr, arg-type]
            reply = self._await_reply(began + timeout, timeout)
        except OSError as error:
            reply = error
        outcome.seconds = time.monotonic() - began
        if isinstance(reply, TimeoutError):
            self._dump_stack()
        outcome.output = self.output.take(self.next_id, wait=0.5 if isinstance(reply, (dict, TimeoutError)) else 0.0)
        self._settle(outcome, reply)
        return outcome

    def _await_ready(self) -> str | None:
        if self.ready:
            return None
        deadline = time.monotonic() + self.start_seconds
        while True:
            try:
                first = self.frames.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                first = TimeoutError(f"worker did not start within {self.start_seconds:.0f} s")
            if isinstance(first, dict) and first.get("ready"):
                self.ready = True
                self.confinement = first.get("confinement") if isinstance(first.get("confinement"), dict) else None
                return None
            if not isinstance(first, wire.RejectedValue):
                break
        message = f"the worker could not start: {describe_death(first, self.process)}"
        self.stop()
        return message

    def _await_reply(self, deadline: float, timeout: float) -> Any:
        """This call's reply, or why there is none; replies to earlier calls (e.g. from a forked child) are skipped."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return TimeoutError(f"did not finish within the time limit of {timeout:.0f} s (an endless loop, or far too slow)")
            try:
                reply = self.frames.get(timeout=min(left, WATCH_SECONDS))
            except queue.Empty:
                problem = self.sandbox.overuse()
                if problem:
                    return Overuse(problem)
                continue
            if isinstance(reply, dict) and reply.get("id") != self.next_id:
                continue
            return reply

    def _dump_stack(self) -> None:
        """Ask the worker where it is (its faulthandler writes the stack to its output), before it is killed."""
        try:
            os.kill(self.process.pid, signal.SIGUSR1)  # type: ignore[union-attr]
        except OSError:
            pass

    def _settle(self, outcome: CallOutcome, reply: Any) -> None:
        if isinstance(reply, dict):
            if reply.get("internal"):
                outcome.internal = str(reply["internal"])[:2000]
            elif reply.get("ok"):
                outcome.result = reply.get("result") if isinstance(reply.get("result"), dict) else {}
            else:
                outcome.error = clean_error(reply.get("error"))
            if reply.get("restart"):  # the call left state behind in the worker: start afresh
                self.stop()
                self.start()
            else:
                self.sandbox.kill_strays()
            return
        outcome.failure = describe_death(reply, self.process)
        outcome.timed_out = isinstance(reply, TimeoutError)
        self.stop()  # the next call starts a new worker

    def stop(self) -> None:
        if self.process is None:
            return
        self.sandbox.kill_worker(self.process.pid)
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
        self.ready = False


def clean_error(error: Any) -> dict[str, Any]:
    """The worker's description of a student exception, reduced to short strings whatever the worker sent."""
    if not isinstance(error, dict):
        return {"type": "Error", "message": "", "frames": []}
    frames = error.get("frames") if isinstance(error.get("frames"), list) else []

    def text(value: Any, limit: int) -> str:
        return CONTROL_CHARACTERS.sub("", str(value)[:limit])

    return {"type": text(error.get("type", "Error"), 100), "message": text(error.get("message", ""), 2000), "frames": [text(frame, 300) for frame in frames[-5:]]}


def describe_death(reply: Any, process: subprocess.Popen[bytes] | None) -> str:
    """Why the worker stopped answering, in the student's terms."""
    if isinstance(reply, (TimeoutError, Overuse)):
        return str(reply)
    if isinstance(reply, wire.RejectedValue):
        return f"your code sent back something the grader does not accept ({reply}); only plain numbers and numeric arrays are accepted"
    try:
        code = process.wait(timeout=2) if process is not None else None
    except subprocess.TimeoutExpired:
        return "the worker stopped answering the grader (did your code close or write to the grader's connection?)"
    if code is None:
        return f"the worker sent an unreadable reply ({reply})"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hints = {"SIGSEGV": "a crash in native code", "SIGKILL": "killed, e.g. for using too much memory or CPU time", "SIGXFSZ": "a file larger than the limit was written", "SIGXCPU": "too much CPU time"}
        return f"the worker died from {name} ({hints.get(name, 'a signal')})"
    return f"the worker exited with code {code} during the call (sys.exit or os._exit in student code?)"
