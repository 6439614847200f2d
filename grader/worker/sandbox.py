"""Confinement of the worker process.

As root (Gradescope, CI) the worker runs as an unprivileged user with resource
limits, in a staging folder it cannot escape, and every process of that user is
killed after each call. Elsewhere (a student's laptop) only time limits apply
and the run is marked unofficial.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

WORKER_USER = "grader-worker{slot}"
WORKER_SLOTS = 16  # concurrent gradings on one machine, each with its own user
LOCK_DIR = Path("/run/lock/grader") if Path("/run/lock").is_dir() else Path("/tmp/grader-locks")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
PASSED_THROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT", "LANG")


@dataclass(frozen=True)
class Limits:
    memory_mb: int
    file_size_mb: int
    processes: int
    output_kib: int


@dataclass(frozen=True)
class Sandbox:
    """How workers are started and cleaned up on this machine."""

    limits: Limits
    uid: int | None = None
    gid: int | None = None
    lock: Any = None  # held open while grading: this grading owns the worker user

    @property
    def confined(self) -> bool:
        return self.uid is not None

    @classmethod
    def for_this_machine(cls, limits: Limits, protected: list[Path]) -> "Sandbox":
        """Confined when running as root on Linux; otherwise time limits only."""
        if not sys.platform.startswith("linux") or os.geteuid() != 0:
            return cls(limits)
        (uid, gid), lock = claim_worker_user()
        grant_traversal(python_paths())
        for path in protected:
            if path.exists():
                path.chmod(path.stat().st_mode & 0o770)  # no access for the worker's "other" class
        return cls(limits, uid, gid, lock)

    def prepare_home(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        if self.confined:
            os.chown(home, self.uid, self.gid)  # type: ignore[arg-type]
        home.chmod(0o700)

    def environment(self, home: Path) -> dict[str, str]:
        """A clean environment: nothing of the judge's leaks into the worker."""
        env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        env.update({name: "1" for name in THREAD_VARIABLES})
        env.update(HOME=str(home), TMPDIR=str(home), PATH=os.defpath, PYTHONIOENCODING="utf-8")
        return env

    def popen_options(self, home: Path) -> dict[str, Any]:
        options: dict[str, Any] = {"cwd": home, "env": self.environment(home)}
        if os.name == "posix":
            options["start_new_session"] = True
        if self.confined:
            options.update(user=self.uid, group=self.gid, extra_groups=[], preexec_fn=self.limit_resources())
        return options

    def limit_resources(self) -> Callable[[], None]:
        limits = self.limits

        def apply() -> None:  # runs in the child, before exec
            mib = 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * mib,) * 2)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_mb * mib,) * 2)
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes,) * 2)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        return apply

    def kill_strays(self, worker_pid: int | None) -> None:
        """Kill every process the worker started (all of the worker user's, when confined)."""
        for pid in self.sandboxed_processes(worker_pid):
            if pid != worker_pid:
                _kill(pid)

    def kill_all(self, worker_pid: int | None) -> None:
        if worker_pid is not None:
            _kill_group(worker_pid)
            _kill(worker_pid)
        self.kill_strays(None)

    def sandboxed_processes(self, worker_pid: int | None) -> list[int]:
        if not Path("/proc").is_dir():
            return []
        return [pid for pid, uid, pgid in _processes() if (self.confined and uid == self.uid) or (worker_pid and pgid == worker_pid)]


def _processes() -> list[tuple[int, int, int]]:
    """(pid, real uid, process group) of every process, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            uid = Path(f"/proc/{entry}").stat().st_uid
        except OSError:
            continue
        pgid = int(stat.rsplit(")", 1)[1].split()[2])
        found.append((int(entry), uid, pgid))
    return found


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_group(pgid: int) -> None:
    if hasattr(os, "killpg"):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def python_paths() -> list[Path]:
    """What the worker's interpreter must reach: the executable, its prefixes, site-packages."""
    import site
    import sysconfig

    return [Path(os.path.realpath(sys.executable)), Path(sys.prefix), Path(sys.base_prefix), Path(sysconfig.get_paths()["purelib"]), *map(Path, site.getsitepackages())]


def grant_traversal(paths: list[Path]) -> None:
    """Let other users pass through (not list) the folders above ``paths``, e.g. /root for a pyenv Python."""
    for path in paths:
        for folder in path.resolve().parents:
            mode = folder.stat().st_mode
            if not mode & 0o001:
                folder.chmod(mode | 0o001)


def claim_worker_user() -> tuple[tuple[int, int], Any]:
    """A worker user no other grading on this machine is using, and the lock that keeps it ours.

    Each grading kills every process of its worker user after each call, so two
    gradings at once (batch mode, parallel tests) must not share one.
    """
    import fcntl

    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    LOCK_DIR.chmod(0o700)
    for slot in range(WORKER_SLOTS):
        lock = open(LOCK_DIR / f"slot-{slot}.lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        return ensure_worker_user(WORKER_USER.format(slot=slot)), lock
    raise RuntimeError(f"all {WORKER_SLOTS} worker users are busy with other gradings")


def ensure_worker_user(name: str) -> tuple[int, int]:
    """The uid/gid of an unprivileged worker user, created if missing."""
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        created = subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], capture_output=True)
        if created.returncode != 0:
            raise RuntimeError(f"could not create the worker user {name}: {created.stderr.decode(errors='replace')}")
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid
