"""The official path as Gradescope runs it, end to end, on this machine's Debian Python.

The autograder zip is unpacked into a temporary root laid out like /autograder; its
setup.sh builds the image exactly as Gradescope does (as root, with the system
``/usr/bin/python3`` first on PATH), once per test session: about 2 minutes and
5.7 GB here, where pip's configured index supplies torch (GRADER_TORCH_INDEX=""
leaves out PyTorch's index, unreachable from CI). Then run_autograder grades each
submission as root inside the resources of Gradescope's default container (half a
CPU, 768 MiB: ``box.py``), with Gradescope's clean environment. Every grading must
end with a valid results.json, the expected score, before Gradescope's default
10-minute timeout.
"""
from __future__ import annotations

import ast
import fcntl
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from grader.config import load_config
from grader.report.results import validate
from grader.worker.runtime.assignment import graded_files

from autograder_root import LAYOUTS, gradescope_root, put_submission
from box import BoxRun, BoxUnavailable, run_in_box
from conftest import REFERENCE, ROOT, TEMPLATE, once_per_session, overlay

pytestmark = pytest.mark.slow

SYSTEM_PYTHON = Path("/usr/bin/python3")  # Debian's (Ubuntu's on Gradescope): its site lists folders that do not exist
GRADESCOPE_ENV = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": "/root", "LANG": "C.UTF-8"}
SETUP_LIMIT_SECONDS = 1800
GRADESCOPE_TIMEOUT_SECONDS = 600  # the default overall timeout: results.json must be written before it
BOX_LIMIT_SECONDS = GRADESCOPE_TIMEOUT_SECONDS + 60  # the box kills everything after this
IMAGE_PREFIX = "grader-gradescope-image-"
MEMORY_TARGET_MIB = 600  # peak of a whole grading, page cache included: room left under the container's 768 MiB
STUB_MESSAGE = "not implemented yet"
HANG = """
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
while True:
    pass
"""


# --- the image, built once by setup.sh -------------------------------------------------------------

def build_image(record: Path) -> None:
    """Run setup.sh into a fresh autograder root, then write ``record`` (what happened).

    The root lies outside pytest's temporary folders: every pytest session on the
    machine resets their top folder to mode 0700, which would lock the worker's uid
    out of the venv in the middle of a grading. The previous image (5.7 GB) goes.
    """
    for old in Path(tempfile.gettempdir()).glob(f"{IMAGE_PREFIX}*"):
        shutil.rmtree(old, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=IMAGE_PREFIX))
    archive = folder / "autograder.zip"
    done = subprocess.run([sys.executable, "-m", "grader", "build-autograder", "-o", str(archive)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    root = gradescope_root(folder, archive)
    started = time.monotonic()
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=root,
                           env={**GRADESCOPE_ENV, "AUTOGRADER_ROOT": str(root), "GRADER_TORCH_INDEX": ""},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", timeout=SETUP_LIMIT_SECONDS)
    outcome = {"root": str(root), "returncode": setup.returncode, "seconds": time.monotonic() - started, "output": setup.stdout}
    record.write_text(json.dumps(outcome))


def missing_prerequisite() -> str | None:
    """Why this machine cannot build the image as Gradescope does, or None."""
    if not SYSTEM_PYTHON.is_file():
        return f"{SYSTEM_PYTHON} is missing: the image test needs the machine's system python3 (apt-get install python3 python3-venv)"
    has_venv = subprocess.run([str(SYSTEM_PYTHON), "-c", "import ensurepip, venv"], capture_output=True).returncode == 0
    if not has_venv and shutil.which("apt-get") is None:
        return f"{SYSTEM_PYTHON} has no venv support (python3-venv) and there is no apt-get for setup.sh to install it"
    return None


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The autograder root after setup.sh (source/ and venv/); fails the tests when setup.sh failed."""
    problem = missing_prerequisite()
    if problem:
        pytest.fail(problem)
    outcome = json.loads(once_per_session(tmp_path_factory, "gradescope-image.json", build_image).read_text())
    tail = outcome["output"][-6000:]
    assert outcome["returncode"] == 0, f"setup.sh failed (exit {outcome['returncode']}) after {outcome['seconds']:.0f} s:\n{tail}"
    print(f"setup.sh: {outcome['seconds']:.0f} s\n{tail[-1500:]}")
    return Path(outcome["root"])


# --- one submission, graded in the box ------------------------------------------------------------

def grade_in_box(root: Path, upload: Path, layout: str = "template") -> tuple[dict[str, Any], BoxRun]:
    """``upload``'s graded files as the submission, run_autograder in the box; its results and the run.

    Gradings take turns on the one root (as one container grades one submission at a time).
    """
    with open(root / "grading.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for folder in ("submission", "results"):
            shutil.rmtree(root / folder)
            (root / folder).mkdir()
        put_submission(root, layout, upload)
        try:
            run = run_in_box([str(root / "source" / "run_autograder")], env={**GRADESCOPE_ENV, "AUTOGRADER_ROOT": str(root)},
                             cwd=root, time_limit=BOX_LIMIT_SECONDS)
        except BoxUnavailable as error:
            pytest.fail(f"the Gradescope box cannot be set up here, so the official path is not tested: {error}")
        print(f"box: {run.summary()}")
        results_path = root / "results" / "results.json"
        assert results_path.is_file(), f"no results.json ({run.summary()}):\n{run.output[-4000:]}"
        results = json.loads(results_path.read_text())
    validate(results)
    said = f"{run.summary()}; results.json says: {results.get('output', '')[:500]}\nconsole:\n{run.output[-3000:]}"
    assert run.returncode == 0 and run.oom_kills == 0, said
    assert results["tests"], f"the grading gave no test result: {said}"
    assert run.wall_seconds < GRADESCOPE_TIMEOUT_SECONDS, run.summary()
    assert results["score"] == pytest.approx(sum(test["score"] for test in results["tests"]), abs=1e-9)
    return results, run


def total_points() -> float:
    return load_config(ROOT / "grader/config.toml").total_points


def failed_names(results: dict[str, Any]) -> list[str]:
    return [test["name"] for test in results["tests"] if test["status"] != "passed"]


def hanging(source: str) -> str:
    """``source`` with the body of every function and method an endless loop that ignores SIGINT and SIGTERM."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.body = ast.parse(HANG).body
    return ast.unparse(tree)


# --- the cases ------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_reference_gets_every_point_in_each_upload_layout(image, layout):
    results, run = grade_in_box(image, REFERENCE, layout)
    assert failed_names(results) == []
    assert results["score"] == total_points()
    assert sum(test["max_score"] for test in results["tests"]) == pytest.approx(total_points(), abs=1e-9)
    assert run.peak_mib <= MEMORY_TARGET_MIB, run.summary()


def test_a_correct_submission_in_plain_loops_gets_every_point(image, tmp_path):
    loops = ROOT / "tests/corpus/correct/scalar_loops"
    files = {str(path.relative_to(loops)): path.read_text() for path in loops.rglob("*.py")}
    results, run = grade_in_box(image, overlay(tmp_path / "loops", files))
    assert failed_names(results) == [] and results["score"] == total_points()
    assert run.peak_mib <= MEMORY_TARGET_MIB, run.summary()


def test_the_template_gets_zero_saying_not_implemented_yet(image):
    results, run = grade_in_box(image, TEMPLATE)
    assert results["score"] == 0 and len(failed_names(results)) == len(results["tests"])
    assert run.peak_mib <= MEMORY_TARGET_MIB, run.summary()
    visible = [test for test in results["tests"] if test.get("visibility", "visible") == "visible"]
    assert visible and all(STUB_MESSAGE in test["output"] for test in visible)


def test_a_syntax_error_in_conv_costs_the_conv_points_only(image, tmp_path):
    broken = overlay(tmp_path / "broken", {"part1_scratch/conv.py": (REFERENCE / "part1_scratch/conv.py").read_text() + "\ndef oops(:\n"})
    results, _ = grade_in_box(image, broken)
    conv = [test for test in results["tests"] if "conv" in test.get("tags", [])]
    assert conv and all(test["status"] == "failed" for test in conv)
    assert set(failed_names(results)) == {test["name"] for test in conv}
    assert results["score"] == pytest.approx(total_points() - sum(test["max_score"] for test in conv), abs=1e-9)


def test_a_submission_that_hangs_everywhere_is_graded_within_the_timeout(image, tmp_path):
    files = {graded: hanging((REFERENCE / graded).read_text()) for graded in graded_files()}
    results, run = grade_in_box(image, overlay(tmp_path / "hanging", files))
    assert results["score"] == 0 and len(failed_names(results)) == len(results["tests"])
    print(f"hanging everywhere: graded in {run.wall_seconds:.0f} s (Gradescope's timeout: {GRADESCOPE_TIMEOUT_SECONDS} s)")
