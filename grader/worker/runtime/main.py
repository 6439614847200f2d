"""The worker's loop: import the submission lazily, run named scenarios.

Started by the judge as ``python -I -c BOOT LIB_DIR SUBMISSION_DIR PART LIMITS OPTIONS``. The
protocol uses private copies of stdin/stdout; the student's prints go to
stderr, which the judge captures and truncates.

Nothing here is trusted by the judge, which checks every value it receives;
this side only keeps honest mistakes from spreading: a Part 1 guard that
student code cannot remove (an audit hook), no answers from forked children,
and a report of any state a call left behind so that the judge starts a fresh
worker before the next call. Before any student code runs, the worker confines
itself with Landlock where the kernel has it (``confine.py``) and hides the
grader's runtime from the submission (``provenance.py``).
"""
from __future__ import annotations

import _thread
import faulthandler
import importlib
import inspect
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO

from . import confine, provenance, scenarios, wire
from .assignment import part1_may_import

RUNTIME_PACKAGE = "grader_runtime"  # this package's name in the worker: the grader's own imports, outside Part 1's rule
# Ways around that rule without an import: other programs, native libraries.
BLOCKED_IN_PART1 = frozenset({
    "os.exec", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.system", "os.startfile", "subprocess.Popen",
    "pty.spawn", "ctypes.dlopen",
})
WATCHED_SIGNALS = tuple(getattr(signal, name) for name in (
    "SIGALRM", "SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGVTALRM", "SIGPROF", "SIGXCPU", "SIGXFSZ", "SIGPIPE", "SIGCHLD",
) if hasattr(signal, name))
TIMERS = tuple(getattr(signal, name) for name in ("ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF") if hasattr(signal, name))
# Modules whose functions the grader's own code relies on in the worker (torch rebinds its own attributes lazily, so
# it is not watched; its global modes are).
WATCHED_MODULES = frozenset({
    "builtins", "numpy", "numpy.testing", "numpy.linalg", "numpy.lib.stride_tricks", "math", "json", "base64", "struct", "io",
    "os", "signal", "traceback", "importlib",
})
PR_SET_NO_NEW_PRIVS = 38
PR_SET_PDEATHSIG = 1
MISSING = object()


def part1_guard(event: str, args: tuple[Any, ...]) -> None:
    """Audit hook for the Part 1 worker; once added, no Python code can remove it."""
    if event == "import":
        name = str(args[0])
        if not part1_may_import(name) and name.partition(".")[0] != RUNTIME_PACKAGE:
            raise ImportError(f"import of '{name}' is not allowed in Part 1 (NumPy and the standard library only)")
    elif event in BLOCKED_IN_PART1:
        raise PermissionError(f"{event} is not allowed in Part 1 (NumPy and the standard library only: no other programs or native libraries)")


def library_state() -> tuple[Any, ...]:
    """Global modes of NumPy and torch that one component's code could change for the next."""
    numpy, torch = sys.modules.get("numpy"), sys.modules.get("torch")
    state: tuple[Any, ...] = (tuple(sorted(numpy.geterr().items())),) if numpy else ()
    if torch is not None:
        state += (
            torch.is_grad_enabled(), torch.is_inference_mode_enabled(), torch.get_default_dtype(), torch.get_num_threads(),
            torch.are_deterministic_algorithms_enabled(), torch.is_anomaly_enabled(),
        )
    return state


class Baseline:
    """The worker's process-wide state before any student code; a call that changes it gets a fresh worker after it."""

    def __init__(self) -> None:
        self.modules = {
            name: (module, dict(vars(module))) for name, module in list(sys.modules.items())
            if (name in WATCHED_MODULES or name.startswith("grader_runtime")) and isinstance(getattr(module, "__dict__", None), dict)
        }
        self.handlers = {sig: signal.getsignal(sig) for sig in WATCHED_SIGNALS}
        self.cwd = os.getcwd()
        self.streams = (sys.stdin, sys.stdout, sys.stderr, sys.displayhook, sys.excepthook)
        self.hooks = (list(sys.meta_path), list(sys.path_hooks))
        self.limits = (sys.getrecursionlimit(), sys.getswitchinterval())
        self.threads = _thread._count()
        self.libraries = library_state()

    def changes(self) -> list[str]:
        """What the last call left behind (alarms and timers are cancelled on the way)."""
        found = []
        if _thread._count() > self.threads:
            found.append("a thread is still running")
        if hasattr(signal, "alarm") and signal.alarm(0):
            found.append("an alarm is pending")
        for timer in TIMERS:
            if signal.getitimer(timer) != (0.0, 0.0):
                signal.setitimer(timer, 0)
                found.append("an interval timer is set")
        if any(signal.getsignal(sig) is not handler for sig, handler in self.handlers.items()):
            found.append("a signal handler was changed")
        if sys.gettrace() is not None or sys.getprofile() is not None:
            found.append("a trace or profile function is set")
        try:
            cwd = os.getcwd()
        except OSError:
            cwd = None
        if cwd != self.cwd:
            found.append("the working directory changed")
        if (sys.stdin, sys.stdout, sys.stderr, sys.displayhook, sys.excepthook) != self.streams:
            found.append("sys streams or hooks were replaced")
        if (sys.meta_path, sys.path_hooks) != self.hooks or (sys.getrecursionlimit(), sys.getswitchinterval()) != self.limits:
            found.append("the import system or interpreter settings changed")
        try:
            if library_state() != self.libraries:
                found.append("a global mode of numpy or torch changed")
        except Exception:
            found.append("numpy or torch is broken")
        for name, (module, saved) in self.modules.items():
            current = vars(module)
            changed = [key for key, value in saved.items() if current.get(key, MISSING) is not value]
            if changed:
                found.append(f"{name}.{changed[0]} was replaced")
                if len(found) > 5:
                    break
        return found


def apply_limits(limits: dict[str, int]) -> None:
    """The sandbox's resource limits, set by the worker on itself before any student code runs."""
    if not limits:
        return
    import resource

    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))


def limit_cpu(seconds: float | None) -> None:
    """SIGXCPU once this call has used ``seconds`` of CPU time (the hard limit set at start-up stays as the backstop)."""
    if seconds is None:
        return
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def forbid_new_privileges() -> None:
    """No setuid program run by student code gains privileges (Linux; inherited by every child)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


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


def _text(value: Any, limit: int) -> str:
    try:
        return str(value)[:limit]
    except BaseException:  # a student exception whose __str__ fails
        return f"<{type(value).__name__} that cannot be printed>"


def describe_error(error: BaseException, submission_dir: str) -> dict[str, Any]:
    """Type, message and the student's own frames of the traceback."""
    try:
        frames = [
            f"{os.path.basename(frame.filename)}, line {frame.lineno}, in {frame.name}: {(frame.line or '').strip()}"
            for frame in traceback.extract_tb(error.__traceback__)
            if frame.filename.startswith(submission_dir)
        ]
        if isinstance(error, SyntaxError) and error.filename:
            frames.append(f"{os.path.basename(error.filename)}, line {error.lineno}: {(error.text or '').strip()}")
    except BaseException:
        frames = []
    return {"type": type(error).__name__, "message": _text(error, 2000), "frames": frames[-5:]}


def send(replies: BinaryIO, request_id: int, reply: dict[str, Any]) -> None:
    """End the call's output with its marker, then send the reply (or say why the result cannot be sent)."""
    try:
        frame = wire.encode_frame({"id": request_id, **reply})
    except BaseException as error:  # an object array, a custom object, a cycle, ...
        message = f"returned something that cannot be sent to the grader ({_text(error, 300)}); return plain numpy arrays and numbers"
        frame = wire.encode_frame({"id": request_id, "ok": False, "restart": reply.get("restart"), "error": {"type": "ContractError", "message": message}})
    try:
        sys.stderr.flush()
    except BaseException:
        pass
    try:
        os.write(2, wire.end_marker(request_id))
    except OSError:
        pass
    replies.write(frame)
    replies.flush()


def grader_fault(request: Any, part: int) -> str | None:
    """What is wrong with a request the judge sent (an unknown scenario, one of the other part, arguments it does not take), or None."""
    if not isinstance(request, dict) or not isinstance(request.get("args"), dict):
        return f"malformed request {str(request)[:200]}"
    registered = scenarios.REGISTRY.get(request.get("scenario"))
    if registered is None:
        return f"unknown scenario {request.get('scenario')!r}; known: {', '.join(sorted(scenarios.REGISTRY))}"
    if registered.part != part:
        return f"scenario {request['scenario']!r} runs in the Part {registered.part} worker, not in this Part {part} worker"
    try:
        inspect.signature(registered.function).bind(**request["args"])
    except TypeError as error:
        return f"scenario {request['scenario']!r} called with arguments it does not take: {error}"
    return None


def serve(requests: BinaryIO, replies: BinaryIO, submission_dir: str, part: int, baseline: Baseline, worker_pid: int) -> None:
    while True:
        request = wire.read_frame(requests)
        fault = grader_fault(request, part)
        if fault:  # a mistake of the grader's own code: said before any student code runs, never blamed on the student
            send(replies, request.get("id", 0), {"ok": False, "internal": fault})
            continue
        handler: Callable[..., Any] = scenarios.REGISTRY[request["scenario"]].function
        limit_cpu(request.get("cpu_seconds"))
        try:
            refuse(request.get("not_again") or {})
            reply = {"ok": True, "result": handler(**request["args"])}
        except BaseException as error:  # SystemExit and KeyboardInterrupt from student code too
            reply = {"ok": False, "error": describe_error(error, submission_dir)}
        if os.getpid() != worker_pid:
            os._exit(0)  # a child forked by student code came back here: only the worker answers
        left_behind = baseline.changes()
        if left_behind:
            reply["restart"] = left_behind
        tampered = [change for change in left_behind if change.startswith("grader_runtime")]
        if tampered:  # the scenario's own code may have been replaced: its result earns nothing
            reply = {"ok": False, "restart": left_behind, "error": {"type": "BorrowedCode", "message": f"your code changed the grader's code ({tampered[0]}); no credit", "frames": []}}
        send(replies, request["id"], reply)


def die_with_the_judge() -> None:
    """Linux: the kernel kills this worker when the judge dies, and each process forked from it when its parent dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        os.register_at_fork(after_in_child=lambda: prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0))
    except (OSError, AttributeError):
        pass


class NotCalledAgain(Exception):
    """A student function that did not return in an earlier test is not called again: one endless loop, one time limit."""


def refuse(functions: dict[str, str]) -> None:
    """Replace each student function named ``module:qualname`` by one that raises its message."""
    for target, message in functions.items():
        module_name, _, qualname = target.partition(":")
        *owners, name = qualname.split(".")
        module = importlib.import_module(module_name)
        owner: Any = module
        for part in owners:
            owner = getattr(owner, part)
        setattr(owner, name, refusing(message, module.__file__ or module_name))


def refusing(message: str, filename: str) -> Callable[..., Any]:
    """A function that raises ``message``, compiled as written in the student's file it stands in for.

    It takes the place of the student's own function, so the provenance check
    (which reads where code was written) sees the student's code, as before.
    """
    namespace = {"NotCalledAgain": NotCalledAgain, "message": message}
    exec(compile("def refused(*args, **kwargs):\n    raise NotCalledAgain(message)\n", filename, "exec"), namespace)
    return namespace["refused"]


def main(submission_dir: str, worker: str, limits: str = "{}", options: str = "{}") -> None:
    """Serve the judge as the worker named ``worker`` ("part1", "part2")."""
    part = int(worker.removeprefix("part"))
    requests, replies = take_protocol_streams()
    worker_pid = os.getpid()
    die_with_the_judge()
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the judge's question on a time-out: where is the code?
    apply_limits(json.loads(limits))
    # Still one thread, nothing imported yet: Landlock then binds every thread and child the worker will have.
    confinement = confine.apply([submission_dir, os.path.dirname(os.path.dirname(__file__))], json.loads(options).get("landlock", True))
    forbid_new_privileges()
    sys.dont_write_bytecode = True
    scenarios.preload(part)
    if part == 1:
        sys.addaudithook(part1_guard)
    sys.path.insert(0, submission_dir)  # after the grader's own imports, so nothing there can shadow them
    baseline = Baseline()
    provenance.register_submission(submission_dir)
    provenance.hide_runtime(os.path.dirname(os.path.dirname(__file__)))
    confine.drop_runtime(submission_dir, confinement)
    wire.write_frame(replies, {"ready": True, "pid": worker_pid, "confinement": confinement})
    try:
        serve(requests, replies, submission_dir, part, baseline, worker_pid)
    except EOFError:
        os._exit(0)
