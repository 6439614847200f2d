"""Confinement of the worker process.

As root (Gradescope, CI) each grading claims its own unprivileged worker uid,
drawn from a high range that no account uses (no ``useradd``: nothing to
create, and another container on the same host draws another uid, so
per-user kernel limits are never shared). Its workers run with resource
limits (address space, file size, processes and threads, CPU time per call,
open files), a clean environment and a private umask, in a staging folder only
that uid's group can read; the judge watches each call and kills every
process of that uid after it, and again at the end. A reaper process kills
them too if the judge itself dies (SIGKILL, the OOM killer). Elsewhere (a
student's laptop, ``GRADER_UNCONFINED=1``), or where confinement cannot be
set up, only time limits apply and the run says so.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Limits

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

# Worker uids (and gids) are drawn from here: above every account a distribution creates (Debian's
# login.defs stops at 60000, systemd's dynamic users at 65519), inside a container's default id map.
WORKER_UIDS = range(1_000_000, 2_000_000_000)
WORKER_UIDS_IN_A_USER_NAMESPACE = range(40_000, 60_000)  # a remapped container often maps only 65536 ids
LOCK_DIR = Path("/run/lock/grader") if Path("/run/lock").is_dir() else Path("/tmp/grader-locks")
UNCONFINED_VARIABLE = "GRADER_UNCONFINED"  # "1": never confine, even as root (tests of the laptop path)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
PASSED_THROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT", "LANG")
# World-writable places where a worker could leave files for the next grading that uses the same user.
SHARED_TEMPORARY = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/run/lock"), Path("/dev/mqueue"))
WORKER_CPU_SECONDS = 3600  # a worker's CPU time over its whole life (each call also gets its own soft limit)


@dataclass(frozen=True)
class Process:
    """One entry of /proc: enough to decide whether it is the worker's and how much it uses."""

    pid: int
    parent: int
    uids: tuple[int, ...]  # real, effective, saved, filesystem
    session: int
    threads: int
    rss_kib: int
    cpu_ticks: int


@dataclass(frozen=True)
class Sandbox:
    """How workers are started, limited, watched and cleaned up on this machine."""

    limits: Limits
    uid: int | None = None
    gid: int | None = None
    lock: Any = None  # held open while grading: this grading owns the worker uid
    reaper: Any = None  # kills every process of the worker uid when the judge dies, however it dies
    problems: tuple[str, ...] = ()  # protections that could not be set up on this machine
    live: set[int] = field(default_factory=set, compare=False, repr=False)  # running worker pids, spared by clean-ups
    sessions: set[int] = field(default_factory=set, compare=False, repr=False)  # every worker pid ever started

    @property
    def confined(self) -> bool:
        return self.uid is not None

    @classmethod
    def for_this_machine(cls, limits: Limits, protected: list[Path]) -> Sandbox:
        """Confined when running as root on Linux (unless GRADER_UNCONFINED=1); otherwise time limits only.

        A confinement that cannot be set up on this machine (no usable uid, a
        read-only file system) degrades to time limits, with the reason in
        ``problems``: grading goes on, it never fails because of it.
        """
        adopt_orphans()
        if os.environ.get(UNCONFINED_VARIABLE) == "1" or not sys.platform.startswith("linux") or os.geteuid() != 0:
            return cls(limits)
        try:
            grant_traversal(python_paths())  # first: the check of a uid runs Python as that uid
            uid, lock = claim_worker_uid()
            for path in protected:
                if path.exists():
                    path.chmod(path.stat().st_mode & 0o770)  # no access for the worker's "other" class
        except Exception as error:  # noqa: BLE001 - any failure here must degrade, not stop the grading
            return cls(limits, problems=(f"the worker could not be confined ({type(error).__name__}: {error}); time limits only",))
        sandbox = cls(limits, uid, uid, lock, reaper=start_reaper(uid))
        sandbox.kill_everything()  # whatever a crashed earlier grading left behind
        sandbox.remove_leftovers()
        return sandbox

    # --- files ---------------------------------------------------------------------------

    def share(self, root: Path) -> None:
        """Make a folder tree readable (not writable) by this grading's worker, and by no other worker user."""
        for path in [root, *root.rglob("*")]:
            if path.is_symlink():
                continue
            if self.confined:
                os.chown(path, 0, self.gid)  # type: ignore[arg-type]
                path.chmod(0o750 if path.is_dir() else 0o640)
            else:
                path.chmod(0o755 if path.is_dir() else 0o644)

    def prepare_home(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        if self.confined:
            os.chown(home, self.uid, self.gid)  # type: ignore[arg-type]
        home.chmod(0o700)

    def remove_leftovers(self) -> None:
        """Delete what the worker user left in shared temporary folders: nothing passes to the next grading."""
        if not self.confined:
            return
        for folder in SHARED_TEMPORARY:
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.stat(follow_symlinks=False).st_uid != self.uid:
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        os.unlink(entry.path)
                except OSError:
                    pass

    # --- starting a worker ---------------------------------------------------------------

    def environment(self, home: Path) -> dict[str, str]:
        """A clean environment: nothing of the judge's leaks into the worker."""
        env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        env.update({name: "1" for name in THREAD_VARIABLES})
        env.update(HOME=str(home), TMPDIR=str(home), PATH=os.defpath, PYTHONIOENCODING="utf-8")
        return env

    def popen_options(self, home: Path) -> dict[str, Any]:
        options: dict[str, Any] = {"cwd": home, "env": self.environment(home), "close_fds": True}
        if os.name == "posix":
            options.update(start_new_session=True, umask=0o077)
        if self.confined:
            options.update(user=self.uid, group=self.gid, extra_groups=[])
        return options

    def fork_setup(self, home: Path, lib: Path, args: list[str]) -> dict[str, Any]:
        """What a worker forked by the zygote must become: the same as ``popen_options`` gives a started one."""
        return {"cwd": str(home), "env": self.environment(home), "uid": self.uid, "gid": self.gid, "lib": str(lib), "args": args}

    def started(self, pid: int) -> None:
        """Register a new worker: clean-ups spare it while it runs."""
        self.live.add(pid)
        self.sessions.add(pid)

    def worker_limits(self) -> dict[str, int]:
        """The resource limits the worker sets on itself before any student code runs (empty when not confined).

        The worker applies them (lowering limits needs no privilege, and no
        ``preexec_fn``, which can deadlock a judge that has threads); CPU time
        is also limited per call, from the ``cpu_seconds`` of each request.
        """
        if not self.confined:
            return {}
        mib = 1024 * 1024
        return {
            "RLIMIT_AS": self.limits.memory_mb * mib,
            "RLIMIT_FSIZE": self.limits.file_size_mb * mib,
            "RLIMIT_NPROC": self.limits.processes,
            "RLIMIT_NOFILE": self.limits.open_files,
            "RLIMIT_CORE": 0,
            "RLIMIT_CPU": WORKER_CPU_SECONDS,
        }

    def cpu_seconds(self, timeout: float) -> float | None:
        """The CPU time a call may use (None: not limited)."""
        return timeout + 1 if self.confined else None

    # --- watching and killing ------------------------------------------------------------

    def processes(self) -> list[Process]:
        """Every process that belongs to this grading's workers: all of the worker user's when confined."""
        everything = _processes()
        if self.confined:
            return [p for p in everything if self.uid in p.uids]
        ours = {p.pid for p in everything if p.session in self.sessions}
        children: dict[int, list[int]] = {}
        for p in everything:
            children.setdefault(p.parent, []).append(p.pid)
        waiting = list(children.get(os.getpid(), []))
        while waiting:  # the judge's descendants: workers, their children, orphans it adopted (however they left their session)
            pid = waiting.pop()
            ours.add(pid)
            waiting.extend(children.get(pid, []))
        return [p for p in everything if p.pid in ours]

    def overuse(self) -> str | None:
        """Why the workers must be stopped now (too many processes or threads, too much memory), or None."""
        if not self.confined:
            return None
        found = self.processes()
        tasks = sum(p.threads for p in found)
        if tasks >= self.limits.processes - 1:
            return f"started too many processes or threads (the limit is {self.limits.processes}; a fork bomb?)"
        if sum(p.rss_kib for p in found) // 1024 > self.limits.memory_mb and _proportional_kib(found) // 1024 > self.limits.memory_mb:
            return f"used more than {self.limits.memory_mb} MB of memory (all processes together)"
        return None

    def kill_strays(self) -> None:
        """Kill every process the workers started, sparing the running workers themselves."""
        _freeze_and_kill(lambda: [p.pid for p in self.processes() if p.pid not in self.live])

    def kill_worker(self, pid: int) -> None:
        """Kill one worker, its session and every stray, sparing the other running workers."""
        self.live.discard(pid)
        _kill(pid)
        _freeze_and_kill(lambda: [p.pid for p in self.processes() if p.pid not in self.live or p.session == pid])

    def kill_everything(self) -> None:
        """After grading: no process of the workers survives, whatever it did to hide."""
        self.live.clear()
        if self.confined:
            _kill_as(self.uid, self.gid)  # type: ignore[arg-type]  # kill(-1) as the user: atomic, even against a fork bomb
        _freeze_and_kill(lambda: [p.pid for p in self.processes()])

    def finish(self) -> None:
        """The grading is over: kill every worker process, clean up, let the reaper go."""
        self.kill_everything()
        self.remove_leftovers()
        if self.reaper is not None:
            self.reaper.stdin.close()
            try:
                self.reaper.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.reaper.kill()


def _processes() -> list[Process]:
    """Every live process, from /proc (zombies are skipped: they run nothing)."""
    if not Path("/proc").is_dir():
        return []
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] in "ZX":
            continue
        lines = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        found.append(Process(
            pid=int(entry),
            parent=int(fields[1]),
            uids=tuple(int(uid) for uid in lines.get("Uid", "").split()),
            session=int(fields[3]),
            threads=int(lines.get("Threads", "1")),
            rss_kib=int(lines.get("VmRSS", "0 kB").split()[0]),
            cpu_ticks=int(fields[11]) + int(fields[12]),
        ))
    return found


def _proportional_kib(found: list[Process]) -> int:
    """Memory of these processes with shared pages counted once (PSS; forked children share most of theirs)."""
    total = 0
    for process in found:
        try:
            rollup = Path(f"/proc/{process.pid}/smaps_rollup").read_text()
        except OSError:
            total += process.rss_kib
            continue
        total += next((int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), process.rss_kib)
    return total


def _kill(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _freeze_and_kill(targets: Any, rounds: int = 50) -> None:
    """Stop every target until no new one appears (a stopped process cannot fork), then kill them all.

    ``targets`` lists the pids to kill now; it is called again until it is empty.
    """
    for _ in range(rounds):
        pids = targets()
        if not pids:
            return
        stopped: set[int] = set()
        while pids:
            for pid in pids:
                _kill(pid, signal.SIGSTOP)
            stopped.update(pids)
            pids = [pid for pid in targets() if pid not in stopped]
        for pid in stopped:
            _kill(pid)
        time.sleep(0.01)


def _kill_as(uid: int, gid: int) -> None:
    """Send SIGKILL to every process of ``uid`` from a process of that user (kill(-1) spares only the caller)."""
    code = "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept ProcessLookupError:\n    pass"
    try:
        subprocess.run([sys.executable, "-I", "-S", "-c", code], user=uid, group=gid, extra_groups=[], env={}, cwd="/",
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.SubprocessError):
        pass  # the /proc sweep that follows still kills them


def adopt_orphans() -> None:
    """Linux: make the judge the reaper of its descendants' orphans, so a daemon started by student code stays findable."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def python_paths() -> list[Path]:
    """What the worker's interpreter must reach: the executable, its prefixes, site-packages (those that exist)."""
    import site
    import sysconfig

    listed = [os.path.realpath(sys.executable), sys.prefix, sys.base_prefix, sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    return [Path(path) for path in dict.fromkeys(listed) if os.path.exists(path)]  # Debian's site lists folders that may not exist


def grant_traversal(paths: list[Path]) -> None:
    """Let other users pass through (not list) the folders above ``paths``, e.g. /root for a pyenv Python.

    A folder that cannot be read or changed is left as it is: the worker's
    start-up check then says what it cannot reach.
    """
    folders: set[Path] = set()
    for path in paths:
        try:
            folders.update(Path(os.path.realpath(path)).parents)
        except OSError:
            continue
    for folder in sorted(folders):
        try:
            mode = folder.stat().st_mode
            if not mode & 0o001:
                folder.chmod(mode | 0o001)
        except OSError:
            continue


def claim_worker_uid() -> tuple[int, Any]:
    """An unused uid for this grading's workers, and the lock that keeps other gradings on this machine off it.

    Each grading kills every process of its uid after each call, so two
    gradings at once (batch mode, parallel tests) must never share one. The
    uid must be one this kernel lets us switch to: a short check runs as it.
    """
    import fcntl
    import pwd
    import random

    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    LOCK_DIR.chmod(0o700)
    draw = random.SystemRandom()
    for uids in (WORKER_UIDS, WORKER_UIDS_IN_A_USER_NAMESPACE):
        for _ in range(8):
            uid = draw.randrange(uids.start, uids.stop)
            try:
                pwd.getpwuid(uid)
                continue  # an account of this machine
            except KeyError:
                pass
            lock = open(LOCK_DIR / f"uid-{uid}.lock", "w")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                continue
            if _can_run_as(uid):
                return uid, lock
            lock.close()
            break  # this range is not mapped here: try the next one
    raise RuntimeError("no worker uid could be used (the container's user namespace maps none of them?)")


def _can_run_as(uid: int) -> bool:
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", "pass"], user=uid, group=uid, extra_groups=[], env={}, cwd="/",
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


REAPER = """
import os, signal, sys
uid = int(sys.argv[1])
sys.stdin.buffer.read()  # returns when the judge closes the pipe or dies
os.setgroups([]); os.setgid(uid); os.setuid(uid)
for _ in range(3):
    try:
        os.kill(-1, signal.SIGKILL)  # every process of the worker uid; as that uid, it can reach no other
    except ProcessLookupError:
        break
"""


def start_reaper(uid: int) -> subprocess.Popen[bytes]:
    """A small root process that waits for the judge to end, then kills every process of ``uid``.

    It learns of the judge's end from its stdin pipe, which the kernel closes
    when the judge dies, even by SIGKILL or the OOM killer: no polling, and
    nothing a worker started survives the grading. Its own session keeps a
    Ctrl-C to the judge's process group from stopping it first.
    """
    return subprocess.Popen([sys.executable, "-I", "-S", "-c", REAPER, str(uid)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd="/", env={}, start_new_session=True, close_fds=True)
