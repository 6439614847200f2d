"""The judge's side of the worker's isolation: network namespace, Landlock switch, and what the report says.

Two layers, each used where it exists, both where both exist:

- **Network namespace (root on Linux).** A confined worker is started through
  util-linux's ``unshare --net --setgid --setuid``, which runs as root, moves
  into a new network namespace (only a loopback that is down: every connection
  fails at once), drops to the worker user (no supplementary groups) and
  executes the worker. ``Popen(user=...)`` cannot do this: it drops root before
  the program starts, and an unprivileged process cannot create a network
  namespace. Where namespaces are refused (a container without
  ``CAP_SYS_ADMIN``) or ``unshare`` is missing, the worker starts as before and
  the report says the network was not cut.
- **Landlock (any user, Linux >= 5.13).** The worker confines itself (see
  ``runtime/confine.py``): a filesystem allowlist, and with ABI >= 4 no TCP bind
  or connect. ``GRADER_NO_LANDLOCK=1`` switches it off, to test the fallback.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from typing import Any

from .runtime.confine import NETWORK_NAMESPACE_VARIABLE

NO_LANDLOCK_VARIABLE = "GRADER_NO_LANDLOCK"  # "1": never apply Landlock (tests of the fallback of old kernels)
PRIVILEGE_OPTIONS = ("user", "group", "extra_groups")


@functools.cache
def unshare_program() -> str | None:
    """util-linux's ``unshare``, if it can create a network namespace here (tried once per judge process)."""
    program = shutil.which("unshare") or ("/usr/bin/unshare" if os.path.exists("/usr/bin/unshare") else None)
    if program is None:
        return None
    try:
        tried = subprocess.run([program, "--net", "true"], stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return program if tried.returncode == 0 else None


def worker_options() -> str:
    """The worker's last command-line argument: which layers it applies to itself."""
    return json.dumps({"landlock": os.environ.get(NO_LANDLOCK_VARIABLE) != "1"})


def launch(command: list[str], options: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The command and Popen options that start the worker: in a network namespace of its own when root starts a confined worker."""
    if "user" not in options or not sys.platform.startswith("linux") or os.geteuid() != 0 or unshare_program() is None:
        return command, options
    prefix = [unshare_program(), "--net", f"--setgid={options['group']}", f"--setuid={options['user']}", "--"]
    unprivileged = {name: value for name, value in options.items() if name not in PRIVILEGE_OPTIONS}
    unprivileged["env"] = {**options["env"], NETWORK_NAMESPACE_VARIABLE: "1"}
    return prefix + command, unprivileged


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
