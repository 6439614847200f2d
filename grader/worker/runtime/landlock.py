"""Landlock: the kernel confines the worker to an allowlist of paths, without root.

Landlock (Linux >= 5.13) lets any process take rights away from itself and its
future children, for good. The worker calls :func:`restrict` once, before any
student code runs: it may then read and execute only the paths it names, write
only in its home, and (ABI >= 4) neither bind nor connect TCP sockets; with
ABI >= 6 it can neither signal processes outside its domain (the judge) nor
reach abstract Unix sockets outside it. Each ABI adds rights: this module
handles what the running kernel knows and reports what it applied, so an older
kernel gets what it supports and the report says what is missing.

Standard library only (ctypes): it ships in the worker's runtime.
"""
from __future__ import annotations

import ctypes
import functools
import os
import platform
import sys
from dataclasses import dataclass

# The three system calls have the same numbers on every architecture that uses the generic table.
SYSCALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446), "arm64": (444, 445, 446)}
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1  # no port rules: with TCP handled, every bind and connect is refused
PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
CHANGE_TREE = sum(1 << bit for bit in range(4, 13))  # remove, make char/dir/reg/sock/fifo/block/sym
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # the only rights a rule on a file (not a folder) may carry
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

READ = EXECUTE | READ_FILE | READ_DIR


class RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@dataclass(frozen=True)
class Applied:
    """What the kernel now enforces on this process (all False: nothing)."""

    abi: int = 0
    filesystem: bool = False
    network: bool = False  # TCP bind and connect refused
    scoped: bool = False  # no signals to, no abstract Unix sockets of, processes outside the domain
    reason: str = ""  # why Landlock is not (fully) applied


@functools.cache
def _libc() -> ctypes.CDLL:
    """Loaded once, at the first restriction: later layers run under the Part 1 audit hook, which refuses dlopen."""
    return ctypes.CDLL(None, use_errno=True)


def _syscalls() -> tuple[int, int, int] | None:
    if not sys.platform.startswith("linux"):
        return None
    return SYSCALLS.get(platform.machine())


def abi_version() -> int:
    """The Landlock ABI of the running kernel; 0 when it has none (not Linux, too old, disabled, or blocked by seccomp)."""
    numbers = _syscalls()
    if numbers is None:
        return 0
    version = _libc().syscall(numbers[0], None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(version, 0)


def handled_filesystem(abi: int) -> int:
    rights = READ | WRITE_FILE | CHANGE_TREE
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def _add_path(libc: ctypes.CDLL, add_rule: int, ruleset: int, path: str, rights: int) -> None:
    """Allow ``rights`` beneath ``path`` (a missing path is skipped: nothing there to allow)."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS
        rule = PathBeneathAttr(rights, fd)
        if libc.syscall(add_rule, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule({path}): {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)


def restrict(readable: list[str], writable: list[str], no_network: bool = True) -> Applied:
    """Confine this process (and its future children) to ``readable`` (read, execute) and ``writable`` (everything).

    Best effort: returns what was applied, with the reason when Landlock is
    missing. Landlock binds the calling thread and its future threads and
    children: call it while the process is one thread.
    """
    abi = abi_version()
    if abi == 0:
        return Applied(reason="this kernel has no Landlock (Linux >= 5.13 with Landlock enabled)")
    libc, (create, add_rule, restrict_self) = _libc(), _syscalls()  # type: ignore[misc]
    fs_rights = handled_filesystem(abi)
    network = no_network and abi >= 4
    scopes = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = RulesetAttr(fs_rights, NET_BIND_TCP | NET_CONNECT_TCP if network else 0, scopes)
    size = ctypes.sizeof(ctypes.c_uint64) * (3 if abi >= 6 else 2 if abi >= 4 else 1)
    ruleset = libc.syscall(create, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return Applied(abi, reason=f"landlock_create_ruleset failed: {os.strerror(ctypes.get_errno())}")
    try:
        for path in readable:
            _add_path(libc, add_rule, ruleset, path, READ & fs_rights)
        for path in writable:
            _add_path(libc, add_rule, ruleset, path, fs_rights)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or libc.syscall(restrict_self, ruleset, ctypes.c_uint32(0)) != 0:
            return Applied(abi, reason=f"landlock_restrict_self failed: {os.strerror(ctypes.get_errno())}")
    except OSError as error:
        return Applied(abi, reason=str(error))
    finally:
        os.close(ruleset)
    return Applied(abi, filesystem=True, network=network, scoped=bool(scopes))
