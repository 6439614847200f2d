"""Part 2 workers forked from a process that already holds torch, so that they share its memory.

Importing torch costs every process about 280 MB of private memory (the CUDA
build; the CPU build less), and Gradescope's default container has 768 MB for
everything. So the judge imports torch (its oracle) first and then forks this
zygote, which forks each Part 2 worker: judge, zygote and workers share one
copy of torch's pages (copy on write). Measured in a 768 MiB box: two torch
processes that train a small CNN peak at 735 MiB when each imports torch, at
493 MiB when one is forked from the other.

The zygote is forked before the judge reads any test suite or submission, so
it holds nothing a worker may not see; it forgets the judge's modules and
environment and forks double, so that each worker becomes a child of the
judge (a subreaper), which waits for it like any child. A worker is set up as
``python -I`` would start it (sys.path, environment, session, umask, user; as
root, its own network namespace first, like ``isolation.launch`` gives a
worker started by exec), then runs the staged runtime's ``main``, exactly as a
worker started by exec.

Linux only (fork with torch loaded is unsafe on macOS); elsewhere workers are
started by exec.
"""
from __future__ import annotations

import ctypes
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from .runtime.confine import NETWORK_NAMESPACE_VARIABLE

PR_SET_PDEATHSIG = 1
CLONE_NEWNET = 0x40000000
SPAWN_TIMEOUT = 30.0  # seconds to wait for the zygote to fork a worker


class ForkedProcess:
    """A worker forked by the zygote, with the parts of ``subprocess.Popen`` that the client uses."""

    def __init__(self, pid: int, stdin: Any, stdout: Any, stderr: Any) -> None:
        self.pid, self.stdin, self.stdout, self.stderr = pid, stdin, stdout, stderr
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # not handed over to the judge yet (its first parent is exiting)
                return None
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0)
            time.sleep(0.01)
        return self.returncode  # type: ignore[return-value]


class Zygote:
    """The judge's handle on the zygote process."""

    def __init__(self, channel: socket.socket, pid: int) -> None:
        self.channel, self.pid = channel, pid

    @classmethod
    def start(cls) -> Zygote | None:
        """Fork the zygote from the judge now (torch must be imported already); None where forking is not used."""
        if not sys.platform.startswith("linux"):
            return None
        worker_path = isolated_sys_path()
        judge_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        gc.freeze()  # shared objects stay out of the collector's passes, which would copy their pages
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                judge_end.close()
                serve(zygote_end, os.getppid(), worker_path)
            finally:
                os._exit(0)
        zygote_end.close()
        return cls(judge_end, pid)

    def spawn(self, setup: dict[str, Any]) -> ForkedProcess:
        """A new worker set up as ``setup`` says, connected to the judge by three new pipes."""
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        stderr_read, stderr_write = os.pipe()
        try:
            socket.send_fds(self.channel, [json.dumps(setup).encode()], [stdin_read, stdout_write, stderr_write])
            self.channel.settimeout(SPAWN_TIMEOUT)
            pid = int(self.channel.recv(64).decode() or "0")
        finally:
            for fd in (stdin_read, stdout_write, stderr_write):
                os.close(fd)
        if pid <= 0:
            for fd in (stdin_write, stdout_read, stderr_read):
                os.close(fd)
            raise OSError("the zygote could not start a worker")
        return ForkedProcess(pid, os.fdopen(stdin_write, "wb"), os.fdopen(stdout_read, "rb"), os.fdopen(stderr_read, "rb"))

    def stop(self) -> None:
        self.channel.close()  # the zygote exits when it reads the end of its channel
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def isolated_sys_path() -> list[str]:
    """The sys.path of ``python -I`` with this interpreter: the standard library and site-packages, nothing of the project."""
    done = subprocess.run([sys.executable, "-I", "-c", "import sys, json; print(json.dumps(sys.path))"],
                          capture_output=True, text=True, check=True, env={})
    return json.loads(done.stdout)


# --- the zygote's side ---------------------------------------------------------------------------


def serve(channel: socket.socket, judge: int, worker_path: list[str]) -> None:
    """Fork a worker for each request until the judge closes the channel."""
    die_with(judge)
    forget_the_judge(channel)
    while True:
        message, fds, _, _ = socket.recv_fds(channel, 1 << 16, 3)
        if not message:
            return
        setup = json.loads(message)
        middle = os.fork()
        if middle == 0:  # forks the worker and exits at once: the worker is handed over to the judge
            worker = os.fork()
            if worker == 0:
                become_worker(setup, fds, judge, worker_path)
            channel.sendall(str(worker).encode())
            os._exit(0)
        for fd in fds:
            os.close(fd)
        os.waitpid(middle, 0)


def forget_the_judge(channel: socket.socket) -> None:
    """Drop what the zygote inherited from the judge: open files, grader modules, the environment."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    keep = sorted({0, 1, 2, channel.fileno()})
    for low, high in zip(keep, keep[1:] + [os.sysconf("SC_OPEN_MAX")]):
        os.closerange(low + 1, high)
    for name in [name for name in sys.modules if name == "grader" or name.startswith("grader.")]:
        del sys.modules[name]
    os.environ.clear()
    erase_initial_environment()
    gc.collect()
    gc.freeze()


def erase_initial_environment() -> None:
    """Overwrite the environment block the judge was started with: /proc/<worker>/environ shows nothing of it."""
    try:
        fields = open("/proc/self/stat").read().rsplit(")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end (fields 50 and 51 of proc(5))
        ctypes.memset(start, 0, end - start)
    except (OSError, ValueError, IndexError):
        pass


def die_with(parent: int) -> None:
    """Be killed by the kernel when ``parent`` dies (SIGKILL and the OOM killer included)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def become_worker(setup: dict[str, Any], fds: list[int], judge: int, worker_path: list[str]) -> None:
    """Set up the forked process as the sandbox says, then run the worker's main loop; never returns."""
    try:
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        os.umask(0o077)
        os.chdir(setup["cwd"])
        if setup.get("uid") is not None:
            if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET) == 0:  # as root still: an unconnected loopback only
                setup["env"][NETWORK_NAMESPACE_VARIABLE] = "1"
            os.setgroups([])
            os.setresgid(setup["gid"], setup["gid"], setup["gid"])
            os.setresuid(setup["uid"], setup["uid"], setup["uid"])
        for _ in range(400):  # until the first parent has exited and the judge has adopted this process
            if os.getppid() == judge:
                break
            time.sleep(0.005)
        die_with(judge)  # after the change of user, which would clear it
        os.environ.update(setup["env"])
        sys.path[:] = [setup["lib"], *worker_path]
        sys.argv = ["-c"]
        from grader_runtime.main import main  # the staged copy of the runtime, as a worker started by exec runs it

        main(*setup["args"])
    except BaseException:  # noqa: BLE001 - nothing may return into the zygote's loop
        import traceback

        traceback.print_exc()
        os._exit(1)
    os._exit(0)
