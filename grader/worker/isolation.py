"""The judge's side of the worker's isolation: network namespace, Landlock switch, and what the report says.

Two layers, each used where it exists, both where both exist:

- **Network namespace (root on Linux).** A confined worker is started through a
  tiny launcher that runs as root, moves itself into a new network namespace
  (only an unconfigured loopback: every connection fails at once), then drops
  to the worker user and executes the worker. ``Popen(user=...)`` cannot do this:
  it drops root before the program starts, and an unprivileged process cannot
  create a network namespace (unless user namespaces are open, which is not
  something to rely on).
- **Landlock (any user, Linux >= 5.13).** The worker confines itself (see
  ``runtime/confine.py``): a filesystem allowlist, and with ABI >= 4 no TCP bind
  or connect. ``GRADER_NO_LANDLOCK=1`` switches it off, to test the fallback.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any

NO_LANDLOCK_VARIABLE = "GRADER_NO_LANDLOCK"  # "1": never apply Landlock (tests of the fallback of old kernels)
# Runs as root: new network namespace, then the worker user (groups first: setuid would forbid it), then the worker.
LAUNCHER = """import ctypes, os, sys
uid, gid = int(sys.argv[1]), int(sys.argv[2])
if ctypes.CDLL(None, use_errno=True).unshare(0x40000000) == 0:  # CLONE_NEWNET
    os.environ["GRADER_NETWORK_NAMESPACE"] = "1"
os.setgroups([])
os.setgid(gid)
os.setuid(uid)
os.execve(sys.argv[3], sys.argv[3:], dict(os.environ))
"""
PRIVILEGE_OPTIONS = ("user", "group", "extra_groups")


def worker_options() -> str:
    """The worker's last command-line argument: which layers it applies to itself."""
    return json.dumps({"landlock": os.environ.get(NO_LANDLOCK_VARIABLE) != "1"})


def launch(command: list[str], options: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The command and Popen options that start the worker, through the network-namespace launcher when root starts a confined worker."""
    if "user" not in options or not sys.platform.startswith("linux") or os.geteuid() != 0:
        return command, options
    uid, gid = options["user"], options["group"]
    launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(uid), str(gid), *command]
    return launcher, {name: value for name, value in options.items() if name not in PRIVILEGE_OPTIONS}


def summary(confined_user: bool, reports: list[dict[str, Any] | None]) -> str:
    """One line for the report: what confined the workers of this grading, and what did not."""
    known = [report for report in reports if report]
    if not known:
        return "Confinement: unknown (no worker started)."

    def everywhere(key: str) -> bool:
        return all(report.get(key) for report in known)

    network = everywhere("network_namespace") or everywhere("tcp")
    active = [name for name, on in (
        ("filesystem allowlist (Landlock)", everywhere("filesystem")),
        ("no network (own network namespace)" if everywhere("network_namespace") else "no TCP connections (Landlock)", network),
        ("unprivileged worker user with resource limits", confined_user),
    ) if on]
    missing = [name for name, off in (
        ("filesystem allowlist: " + next((r["reason"] for r in known if r.get("reason")), "Landlock unavailable"), not everywhere("filesystem")),
        ("network", not network),
        ("UDP and Unix sockets" if everywhere("tcp") and not everywhere("network_namespace") else "", network and not everywhere("network_namespace")),
        ("memory, process and file-size limits and the separate worker user (they need root)", not confined_user),
    ) if off and name]
    return f"Confined: {', '.join(active) or 'nothing but time limits'}; not confined: {', '.join(missing) or 'nothing'}."
