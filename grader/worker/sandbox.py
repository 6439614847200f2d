"""Confinement of the worker process.

As root (Gradescope, CI) each grading claims its own unprivileged worker user
(``grader-worker<slot>``, created if missing). Its workers run with resource
limits (address space, file size, processes and threads, CPU time per call,
open files), a clean environment and a private umask, in a staging folder only
that user's group can read; the judge watches each call and kills every
process of that user after it, and again at the end. Elsewhere (a student's
laptop, ``GRADER_UNCONFINED=1``) only time limits apply and the run is
marked unofficial.
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

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

WORKER_USER = "grader-worker{slot}"
WORKER_SLOTS = 16  # concurrent gradings on one machine, each with its own user
LOCK_DIR = Path("/run/lock/grader") if Path("/run/lock").is_dir() else Path("/tmp/grader-locks")
UNCONFINED_VARIABLE = "GRADER_UNCONFINED"  # "1": never confine, even as root (tests of the laptop path)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
PASSED_THROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT", "LANG")
# World-writable places where a worker could leave files for the next grading that uses the same user.
SHARED_TEMPORARY = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/run/lock"), Path("/dev/mqueue"))
WORKER_CPU_SECONDS = 3600  # a worker's CPU time over its whole life (each call also gets its own soft limit)


@dataclass(frozen=True)
class Limits:
    memory_mb: int  # address space of each process; also the judge's limit on the resident memory of all of them
    file_size_mb: int
    processes: int  # processes and threads of the worker user, all together
    output_kib: int
    open_files: int = 1024


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
    lock: Any = None  # held open while grading: this grading owns the worker user
    live: set[int] = field(default_factory=set, compare=False, repr=False)  # running worker pids, spared by clean-ups
    sessions: set[int] = field(default_factory=set, compare=False, repr=False)  # every worker pid ever started

    @property
    def confined(self) -> bool:
        return self.uid is not None

    @classmethod
    def for_this_machine(cls, limits: Limits, protected: list[Path]) -> "Sandbox":
        """Confined when running as root on Linux (unless GRADER_UNCONFINED=1); otherwise time limits only."""
        if os.environ.get(UNCONFINED_VARIABLE) == "1" or not sys.platform.startswith("linux") or os.geteuid() != 0:
            adopt_orphans()
            return cls(limits)
        (uid, gid), lock = claim_worker_user()
        grant_traversal(python_paths())
        for path in protected:
            if path.exists():
                path.chmod(path.stat().st_mode & 0o770)  # no access for the worker's "other" class
        sandbox = cls(limits, uid, gid, lock)
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
        created = subprocess.run([useradd, "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", name], capture_output=True)
        if created.returncode != 0:
            raise RuntimeError(f"could not create the worker user {name}: {created.stderr.decode(errors='replace')}")
        entry = pwd.getpwnam(name)
    if entry.pw_gid == 0:
        raise RuntimeError(f"the worker user {name} is in group root; give it a group of its own")
    return entry.pw_uid, entry.pw_gid
