"""A command run inside the resources of a default Gradescope autograder container.

Half a CPU and 768 MiB of memory (page cache included), in a cgroup made for the
run: the logic of the shared ``gradescope-box`` tool, which CI's clean clone does
not have, here so that the tests can read what it measures (wall time, peak
memory, OOM kills). Needs root and a writable cgroup hierarchy: v1 with the cpu
and memory controllers, or v2.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CGROUPS = Path("/sys/fs/cgroup")
CPU_PERIOD_US = 100_000
CPUS = 0.5  # Gradescope's default autograder container
MEMORY_MIB = 768


class BoxUnavailable(RuntimeError):
    """No cgroup can be made here; the message says why and what would allow it."""


@dataclass(frozen=True)
class BoxRun:
    """What a command did inside the box."""

    returncode: int  # -9 when the box killed it at its time limit; 137 or -9 when the kernel killed it for memory
    wall_seconds: float
    peak_mib: float
    oom_kills: int
    output: str  # stdout and stderr together
    timed_out: bool

    def summary(self) -> str:
        return (f"exit {self.returncode}{' (time limit)' if self.timed_out else ''}, wall {self.wall_seconds:.1f} s, "
                f"peak memory {self.peak_mib:.0f} MiB of {MEMORY_MIB} MiB, oom kills {self.oom_kills}")


class Cgroup:
    """One cgroup (a pair of them on v1) with the box's CPU and memory limits."""

    def __init__(self, name: str, cpus: float = CPUS, memory_mib: int = MEMORY_MIB) -> None:
        if os.geteuid() != 0:
            raise BoxUnavailable("the box needs root to create a cgroup; run the tests as root (CI runs as root)")
        quota, limit = int(cpus * CPU_PERIOD_US), memory_mib * 1024 * 1024
        self.v1 = (CGROUPS / "memory").is_dir() and (CGROUPS / "cpu").is_dir()
        try:
            if self.v1:
                self.memory, self.cpu = CGROUPS / "memory" / name, CGROUPS / "cpu" / name
                self.memory.mkdir()
                self.cpu.mkdir()
                self.write(self.cpu / "cpu.cfs_period_us", CPU_PERIOD_US)
                self.write(self.cpu / "cpu.cfs_quota_us", quota)
                self.write(self.memory / "memory.limit_in_bytes", limit)
            elif (CGROUPS / "cgroup.controllers").is_file():
                self.memory = self.cpu = CGROUPS / name
                self.write(CGROUPS / "cgroup.subtree_control", "+cpu +memory")
                self.memory.mkdir()
                self.write(self.memory / "cpu.max", f"{quota} {CPU_PERIOD_US}")
                self.write(self.memory / "memory.max", limit)
                if (self.memory / "memory.swap.max").exists():  # absent without swap accounting
                    self.write(self.memory / "memory.swap.max", 0)
            else:
                raise BoxUnavailable(f"no cgroup hierarchy under {CGROUPS} (neither v1 cpu+memory nor v2)")
        except OSError as error:
            self.remove()
            raise BoxUnavailable(f"cannot set up a cgroup under {CGROUPS}: {error}. The box needs a writable cgroup "
                                 "hierarchy: in a container, run it with --privileged (or --cgroupns=host and a "
                                 "writable /sys/fs/cgroup)") from error

    @staticmethod
    def write(path: Path, value: object) -> None:
        path.write_text(f"{value}\n")

    def join(self) -> None:
        """Move the calling process in (run in the child, before it executes the command)."""
        for group in {self.cpu, self.memory}:
            self.write(group / "cgroup.procs", os.getpid())

    def peak_mib(self) -> float:
        name = "memory.max_usage_in_bytes" if self.v1 else "memory.peak"
        path = self.memory / name
        return int(path.read_text()) / 2**20 if path.exists() else float("nan")

    def oom_kills(self) -> int:
        events = self.memory / ("memory.oom_control" if self.v1 else "memory.events")
        for line in events.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return int((self.memory / "memory.failcnt").read_text()) if self.v1 else 0

    def kill_everything(self) -> None:
        """Kill whatever still runs in the box (what a finished command left, or all at its time limit)."""
        for _ in range(50):
            pids = [int(pid) for pid in (self.memory / "cgroup.procs").read_text().split()]
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)

    def remove(self) -> None:
        for group in {getattr(self, "cpu", None), getattr(self, "memory", None)} - {None}:
            if group.is_dir():
                group.rmdir()


def run_in_box(command: list[str], *, env: dict[str, str], cwd: Path, time_limit: float) -> BoxRun:
    """Run ``command`` in a fresh box; at ``time_limit`` seconds everything in the box is killed.

    Raises:
        BoxUnavailable: no cgroup could be made (not root, or no writable hierarchy).
    """
    group = Cgroup(f"test-box-{os.getpid()}-{time.monotonic_ns()}")
    try:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, errors="replace", preexec_fn=group.join)
        timed_out = False
        try:
            output, _ = process.communicate(timeout=time_limit)
        except subprocess.TimeoutExpired:
            timed_out = True
            group.kill_everything()
            output, _ = process.communicate()
        wall = time.monotonic() - started
        group.kill_everything()
        return BoxRun(process.returncode, wall, group.peak_mib(), group.oom_kills(), output, timed_out)
    finally:
        group.remove()
