"""What the worker may touch once it is confined: an allowlist, enforced by Landlock.

The worker applies it to itself at start-up, while it is still one thread and
before it imports NumPy, torch or any student code: readable are the Python
installation and its packages, the shared libraries they load, the stage (the
submission and this runtime) and a few device and kernel files; writable is
only the worker's home (its HOME and TMPDIR). The judge is told what was
applied (the ``ready`` frame), so the report can say what was confined.
"""
from __future__ import annotations

import os
import site
import sys
from typing import Any

from . import landlock

# What the interpreter, NumPy and torch read at run time besides their own installation (found by grading the
# reference under Landlock: a missing entry fails an import or a call).
SYSTEM_READABLE = (
    "/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib", "/etc/ld.so.cache", "/etc/localtime", "/usr/share/zoneinfo",
    "/dev/urandom", "/dev/random", "/dev/zero", "/sys/devices/system/cpu", "/proc/self", "/proc/cpuinfo",
    "/etc/passwd", "/etc/group", "/etc/nsswitch.conf",  # user names (getpass), no secrets
)
SYSTEM_WRITABLE = ("/dev/null",)
NETWORK_NAMESPACE_VARIABLE = "GRADER_NETWORK_NAMESPACE"  # "1": the judge started this worker in a network namespace of its own


def python_installation() -> list[str]:
    """The interpreter's prefixes, its real executable and its site-packages (not other sys.path entries, e.g. an editable checkout)."""
    roots = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix, os.path.realpath(sys.executable)}
    roots.update(site.getsitepackages())
    return sorted(os.path.realpath(root) for root in roots)


def allowlist(stage_paths: list[str], home: str) -> tuple[list[str], list[str]]:
    """(readable, writable) paths of the confined worker."""
    return [*python_installation(), *SYSTEM_READABLE, *stage_paths], [home, *SYSTEM_WRITABLE]


def apply(stage_paths: list[str], enabled: bool = True) -> dict[str, Any]:
    """Confine this process with Landlock when ``enabled`` and the kernel allows; say what is confined."""
    report: dict[str, Any] = {"network_namespace": os.environ.get(NETWORK_NAMESPACE_VARIABLE) == "1"}
    if not enabled:
        return {**report, "landlock_abi": 0, "filesystem": False, "tcp": False, "scoped": False, "reason": "Landlock switched off (GRADER_NO_LANDLOCK=1)"}
    readable, writable = allowlist(stage_paths, os.environ.get("HOME", os.getcwd()))
    applied = landlock.restrict(readable, writable)
    return {**report, "landlock_abi": applied.abi, "filesystem": applied.filesystem, "tcp": applied.network, "scoped": applied.scoped, "reason": applied.reason}


def drop_runtime(submission_dir: str, report: dict[str, Any]) -> None:
    """Once the runtime is imported, take away reading its files too (a second Landlock layer, on top of the first).

    Student code then cannot load a fresh copy of the grader's models and loops.
    Threads started since the first layer (none of them runs Python) keep the
    first layer's rights; student code runs in this thread or its children.
    """
    if report.get("filesystem"):
        readable, writable = allowlist([submission_dir], os.environ.get("HOME", os.getcwd()))
        landlock.restrict(readable, writable)
