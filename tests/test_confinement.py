"""The worker reads only what it needs and has no network: as root, on the laptop path, and as a normal user.

A submission that walks the disk for the grader's test files (a world-readable
copy of ``grader/`` elsewhere, an autograder zip in ``build/``) and connects to
a listener on 127.0.0.1 is graded three ways; honest results must not change,
nothing it read or sent may reach the results, and the report must say what was
confined. A run with Landlock switched off (an old kernel) must still grade
correctly and say which protections were off.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.worker import isolation
from grader.worker.runtime import landlock

from conftest import REFERENCE, ROOT, Graded, overlay, run_grader

SUITES = ROOT / "grader" / "judge" / "suites"
NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the confined worker and the normal-user run need root to set up")
needs_landlock = pytest.mark.skipif(landlock.abi_version() < 4, reason="needs Landlock ABI >= 4 (filesystem and TCP)")

# Appended to a graded module: read every target and the test files under each walked folder, connect to the
# listener; the component works only if all of that failed, and otherwise says what it got.
PROBE = '''

import os as _os
import socket as _socket


def _reached():
    found = []
    paths = list(@TARGETS@)
    for top in @WALK@:
        for folder, _, names in _os.walk(top):
            paths += [_os.path.join(folder, name) for name in names if name.startswith("test_") or name.endswith(".zip")]
    for path in paths:
        try:
            with open(path, "rb") as handle:
                found.append(path + ":\\n" + handle.read(20000).decode("utf-8", "replace"))
        except OSError:
            pass
    try:
        with _socket.create_connection(("127.0.0.1", @PORT@), timeout=5) as connection:
            connection.sendall(b"graded code got through")
            found.append("connected to the listener")
    except OSError:
        pass
    return found


def _guarded(original):
    def run(*args, **kwargs):
        found = _reached()
        if found:
            print("\\n".join(found))
            raise RuntimeError("reached: " + "\\n".join(found))
        return original(*args, **kwargs)
    return run
'''
GUARDS = {"part1_scratch/relu.py": "\nReLU.forward = _guarded(ReLU.forward)\n", "part2_pytorch/train.py": "\ntrain_epoch = _guarded(train_epoch)\n"}


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.server.close()


class Secrets:
    """A world-readable copy of grader/ under /tmp and an autograder zip in build/: what a disk walk must not find."""

    def __init__(self) -> None:
        self.copy = Path(tempfile.mkdtemp(prefix="grader-copy-"))
        shutil.copytree(ROOT / "grader", self.copy / "grader", ignore=shutil.ignore_patterns("__pycache__"))
        self.zip = ROOT / "build" / f"autograder-{uuid.uuid4().hex[:8]}.zip"
        self.zip.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(self.zip, "w") as archive:
            for suite in SUITES.glob("test_*.py"):
                archive.write(suite, f"source/grader/judge/suites/{suite.name}")
        for path in [self.copy, *self.copy.rglob("*"), self.zip.parent, self.zip]:
            path.chmod(0o755 if path.is_dir() else 0o644)

    def targets(self) -> list[str]:
        return [str(self.zip), *map(str, (self.copy / "grader" / "judge" / "suites").glob("test_*.py"))]

    def lines(self) -> set[str]:
        """Every distinctive line of the test files (long enough not to occur by chance in a report)."""
        return {line.strip() for suite in SUITES.glob("test_*.py") for line in suite.read_text().splitlines() if len(line.strip()) >= 30}

    def remove(self) -> None:
        shutil.rmtree(self.copy, ignore_errors=True)
        self.zip.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def secrets() -> Iterator[Secrets]:
    made = Secrets()
    yield made
    made.remove()


@pytest.fixture
def listener() -> Iterator[Listener]:
    made = Listener()
    yield made
    made.close()


def probing_submission(work: Path, secrets: Secrets, port: int) -> Path:
    probe = PROBE.replace("@TARGETS@", repr(secrets.targets())).replace("@WALK@", repr([str(secrets.copy), str(ROOT / "build")]))
    probe = probe.replace("@PORT@", str(port))
    files = {path: (REFERENCE / path).read_text() + probe + guard for path, guard in GUARDS.items()}
    return overlay(work / "submission", files)


def grade_as_nobody(submission: Path, work: Path) -> Graded:
    """``python -m grader`` run by an unprivileged user from its own copy of the project, as on a student's laptop.

    (Root gradings take every permission away from this checkout's ``grader/`` for other users.)
    """
    project = work / "project"
    for folder in ("grader", "submission_template"):
        shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    results = work / "out" / "results.json"
    results.parent.mkdir()
    for path in [work, *work.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o644)
    env = {"PATH": os.defpath, "HOME": str(results.parent)}
    command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--", sys.executable, "-m", "grader", str(submission), "--results", str(results), "--quiet"]
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=600, env=env)
    return Graded(done.returncode, json.loads(results.read_text()) if results.exists() else {}, done.stdout + done.stderr, results)


def full_marks(graded: Graded) -> bool:
    return graded.score == pytest.approx(sum(test["max_score"] for test in graded.results["tests"]), abs=0.01)  # points are rounded per test


def assert_contained(graded: Graded, reference: Graded, secrets: Secrets, listener: Listener) -> None:
    assert graded.returncode == 0, graded.stdout
    assert full_marks(reference)  # honest code, confined the same way
    assert graded.score == reference.score, [test["output"][:500] for test in graded.failed]
    text = json.dumps(graded.results) + graded.stdout
    assert not [line for line in secrets.lines() if line in text]
    assert listener.accepted == 0
    assert "filesystem allowlist (Landlock)" in graded.results["output"]


@needs_root
@needs_landlock
@pytest.mark.slow
@pytest.mark.parametrize("how", ["root", "root-unconfined", "normal-user"])
def test_graded_code_reaches_no_file_and_no_listener(how: str, secrets: Secrets, listener: Listener, reference_graded: Graded, tmp_path: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="confinement-"))
    try:
        submission = probing_submission(work, secrets, listener.port)
        if how == "normal-user":
            graded = grade_as_nobody(submission, work)
        else:
            env = {**os.environ, "GRADER_UNCONFINED": "1" if how == "root-unconfined" else "0"}
            graded = run_grader(submission, tmp_path / "results.json", env=env)
        assert_contained(graded, reference_graded, secrets, listener)
        expected_network = "no network (own network namespace)" if how == "root" else "no TCP connections (Landlock)"
        assert expected_network in graded.results["output"]
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.slow
def test_without_landlock_grading_is_unchanged_and_the_report_says_what_was_off(reference_graded: Graded, tmp_path: Path) -> None:
    env = {**os.environ, "GRADER_UNCONFINED": "1", isolation.NO_LANDLOCK_VARIABLE: "1"}
    graded = run_grader(REFERENCE, tmp_path / "results.json", env=env)
    assert graded.returncode == 0
    assert full_marks(graded)
    assert "not confined: filesystem allowlist: Landlock switched off" in graded.results["output"]
    assert "network" in graded.results["output"].split("not confined:")[1]


def test_the_summary_names_each_layer_that_was_on_and_off() -> None:
    full = {"network_namespace": True, "filesystem": True, "tcp": True, "reason": ""}
    old_kernel = {"network_namespace": False, "filesystem": False, "tcp": False, "reason": "this kernel has no Landlock"}
    assert isolation.summary(True, [full, full]).endswith("not confined: nothing.")
    laptop = isolation.summary(False, [{**full, "network_namespace": False}])
    assert "no TCP connections (Landlock)" in laptop and "UDP" in laptop and "need root" in laptop
    fallback = isolation.summary(False, [old_kernel])
    assert fallback.startswith("Confined: nothing but time limits") and "this kernel has no Landlock" in fallback
    assert "filesystem allowlist" not in isolation.summary(True, [full, old_kernel]).split(";")[0]


@needs_landlock
def test_landlock_refuses_what_is_not_on_the_allowlist(tmp_path: Path) -> None:
    allowed, refused = tmp_path / "allowed", tmp_path / "refused"
    allowed.mkdir()
    refused.mkdir()
    (refused / "secret").write_text("secret")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    code = textwrap.dedent(f"""
        import socket, sys
        sys.path.insert(0, {str(ROOT)!r})
        from grader.worker.runtime import landlock
        applied = landlock.restrict([], [{str(allowed)!r}])
        open({str(allowed / "mine")!r}, "w").write("ok")
        outcomes = []
        for attempt in (lambda: open({str(refused / "secret")!r}).read(), lambda: socket.create_connection(("127.0.0.1", {port}), timeout=2)):
            try:
                attempt()
                outcomes.append("reached")
            except OSError as error:
                outcomes.append(type(error).__name__)
        print(applied.filesystem, applied.network, outcomes)
    """)
    done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=60)
    listener.close()
    assert done.stdout.split() == ["True", "True", "['PermissionError',", "'PermissionError']"], done.stderr
    assert (allowed / "mine").read_text() == "ok"


# Each graded Part 2 piece taken from the grader's own runtime, in a way a student could find: an import by path (or
# an alias of the class found through gc), a subclass, a wrapper around a function found through gc, and a method borrowed into a class of its own.
BORROWED_MODELS = '''
import gc as _gc
import os as _os
import sys as _sys

from torch import nn as _nn

_sys.path.insert(0, _os.path.join(_os.environ["HOME"], "..", "lib"))
try:
    from grader_runtime.trusted import GraderTwoLayerNet as TwoLayerNet
except ImportError:  # the runtime is off the import path and unreadable: take the class already in memory
    TwoLayerNet = next(o for o in _gc.get_objects() if isinstance(o, type) and o.__name__ == "GraderTwoLayerNet")


class VanillaCNN(next(o for o in _gc.get_objects() if isinstance(o, type) and o.__name__ == "GraderVanillaCNN")):
    pass
'''
BORROWED_LOOPS = '''
import gc as _gc


def _grader(name):
    return next(o for o in _gc.get_objects() if callable(o) and getattr(o, "__name__", "") == name and "grader" in getattr(o, "__module__", ""))


def train_epoch(model, loader, optimizer, criterion, device="cpu"):
    return _grader("reference_train_epoch")(model, loader, optimizer, criterion)


class _Loops:
    validate = staticmethod(_grader("reference_validate"))


validate = _Loops.validate
'''
BORROWING_COMPONENTS = frozenset({"twolayer", "vanilla_cnn", "train_epoch", "validate"})


@pytest.mark.slow
def test_the_graders_own_models_and_loops_earn_no_credit(reference_graded: Graded, tmp_path: Path) -> None:
    submission = overlay(tmp_path / "submission", {"part2_pytorch/models.py": BORROWED_MODELS, "part2_pytorch/train.py": BORROWED_LOOPS})
    graded = run_grader(submission, tmp_path / "results.json")
    assert graded.returncode == 0, graded.stdout
    expected = sum(test["score"] for test in reference_graded.results["tests"] if not BORROWING_COMPONENTS & set(test["tags"]))
    assert graded.score == pytest.approx(expected, abs=0.01)
    assert graded.lost_tags >= BORROWING_COMPONENTS
    messages = {tag: " ".join(test["output"] for test in graded.failed if tag in test["tags"]) for tag in BORROWING_COMPONENTS}
    assert all("grader" in message and "no credit" in message for message in messages.values()), messages
