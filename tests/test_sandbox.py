"""The sandbox's set-up on any Python and any machine: missing folders, unusable uids, and what degrades."""
from __future__ import annotations

import os
import site
from pathlib import Path

import pytest

from grader.worker import sandbox
from grader.worker.sandbox import Limits, Sandbox

LIMITS = Limits(memory_mb=6144, file_size_mb=64, processes=64, output_kib=64)


def test_python_paths_skip_folders_that_do_not_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Debian's site lists /usr/local/lib/python3.X/dist-packages and, in a venv, <venv>/local/lib/python3.X, which may not exist.
    missing = tmp_path / "venv/local/lib/python3.11/dist-packages"
    listed = site.getsitepackages()
    monkeypatch.setattr(site, "getsitepackages", lambda: [str(missing), *listed])
    paths = sandbox.python_paths()
    assert missing not in paths
    assert all(path.exists() for path in paths)


def test_grant_traversal_passes_over_missing_and_unchangeable_folders(tmp_path: Path) -> None:
    reachable = tmp_path / "a" / "b"
    reachable.mkdir(parents=True)
    (tmp_path / "a").chmod(0o700)
    sandbox.grant_traversal([reachable / "missing" / "deeper", Path("/proc/1/root/nowhere")])
    assert (tmp_path / "a").stat().st_mode & 0o001


@pytest.mark.skipif(os.geteuid() != 0, reason="confinement is set up as root only")
def test_a_confinement_that_cannot_be_set_up_degrades_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_uid() -> None:
        raise RuntimeError("no worker uid could be used")

    monkeypatch.setattr(sandbox, "claim_worker_uid", no_uid)
    monkeypatch.delenv("GRADER_UNCONFINED", raising=False)
    degraded = Sandbox.for_this_machine(LIMITS, [])
    assert not degraded.confined
    assert degraded.problems == ("the worker could not be confined (RuntimeError: no worker uid could be used); time limits only",)


@pytest.mark.skipif(os.geteuid() != 0, reason="confinement is set up as root only")
def test_each_grading_gets_its_own_unused_uid() -> None:
    import pwd

    first, first_lock = sandbox.claim_worker_uid()
    second, second_lock = sandbox.claim_worker_uid()
    try:
        assert first != second
        for uid in (first, second):
            assert uid >= 40_000
            with pytest.raises(KeyError):
                pwd.getpwuid(uid)  # no account: nothing to create, nothing shared with another container
    finally:
        first_lock.close()
        second_lock.close()
