"""The two zips an instructor hands out, built and used as Gradescope and students use them.

The autograder zip is unpacked into a folder laid out like Gradescope's /autograder
(source/, submission/, results/, submission_metadata.json) and run_autograder grades
submissions in each layout a student may upload. setup.sh needs the network, so
this machine's interpreter stands in for the venv it builds (GRADER_PYTHON).
The handout is unpacked and its run_grader.sh grades the reference.
"""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grader.config import load_config
from grader.discover import GRADED_FILES
from grader.instructor.package import unpack
from grader.report.results import SCHEMA

from conftest import REFERENCE, ROOT

EXAMPLE = ROOT / "grader/config.example.toml"  # the leaderboard is on there
SUITES = ROOT / "grader/judge/suites"


def build(command: str, output: Path, *args: str) -> Path:
    done = subprocess.run([sys.executable, "-m", "grader", command, "-o", str(output), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return output


def hidden_suites() -> list[Path]:
    config = load_config()
    return [path for path in sorted(SUITES.glob("test_*.py"))
            if any(key.startswith(path.name + "::") and policy.visibility != "visible" for key, policy in config.tests.items())]


def defined_tests(path: Path) -> set[str]:
    return {node.name for node in ast.parse(path.read_text()).body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def reference_texts() -> dict[bytes, str]:
    return {(REFERENCE / graded).read_bytes().strip(): graded for graded in GRADED_FILES}


def assert_no_reference_code(archive: zipfile.ZipFile) -> None:
    texts = reference_texts()
    for info in archive.infolist():
        assert "reference" not in Path(info.filename).parts, info.filename
        assert archive.read(info).strip() not in texts, f"{info.filename} is reference/{texts.get(archive.read(info).strip())}"


# --- the autograder zip ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    return build("build-autograder", tmp_path_factory.mktemp("build") / "autograder.zip", "--config", str(EXAMPLE))


def test_autograder_has_setup_and_run_autograder_at_its_root(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert {"requirements.txt", "grader/__main__.py", "grader/config.toml", "grader/judge/suites/pytest.ini"} <= set(modes)


def test_autograder_contains_no_reference_code(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        assert_no_reference_code(archive)
        names = archive.namelist()
    assert not any(name.startswith(("grader/instructor/", "tests/", "submission_template/part1_scratch/conv.py")) for name in names)


def test_autograder_carries_every_suite_hidden_ones_included(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
    assert {f"grader/judge/suites/{path.name}" for path in SUITES.glob("test_*.py")} <= names
    assert hidden_suites(), "the default config hides no suite: nothing to check"


def test_autograder_ships_the_chosen_config(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        assert archive.read("grader/config.toml") == EXAMPLE.read_bytes()


def test_setup_installs_pinned_cpu_wheels_beside_the_system_python(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        setup = archive.read("setup.sh").decode()
        assert archive.read("requirements.txt") == (ROOT / "requirements.txt").read_bytes()
    assert "-r \"$SOURCE/requirements.txt\"" in setup and "download.pytorch.org/whl/cpu" in setup
    assert "prefetch(config.dataset, config.data_root)" in setup
    assert "update-alternatives" not in setup and "/usr/bin/python3 " not in setup


@pytest.mark.parametrize("script", ["setup.sh", "run_autograder"])
def test_scripts_are_valid_bash(autograder_zip, tmp_path, script):
    unpack(autograder_zip, tmp_path)
    done = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def gradescope_root(tmp_path: Path, autograder_zip: Path) -> Path:
    """A folder laid out as Gradescope lays /autograder before run_autograder starts."""
    root = tmp_path / "autograder"
    unpack(autograder_zip, root / "source")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    metadata = {
        "id": 123456, "created_at": "2026-11-26T09:00:00.000000-08:00", "submission_method": "upload",
        "assignment": {"id": 25828, "title": "Assignment 3", "total_points": "100.0", "group_submission": False,
                       "due_date": "2026-12-01T23:59:00.000000-08:00", "late_due_date": None, "release_date": "2026-11-20T00:00:00.000000-08:00"},
        "users": [{"email": "student@example.com", "id": 1234, "name": "Student User"}],
        "previous_submissions": [],
    }
    (root / "submission_metadata.json").write_text(json.dumps(metadata))
    return root


def put_submission(root: Path, layout: str) -> None:
    submission = root / "submission"
    if layout == "template":
        for graded in GRADED_FILES:
            (submission / graded).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REFERENCE / graded, submission / graded)
    elif layout == "flat":
        for graded in GRADED_FILES:
            shutil.copyfile(REFERENCE / graded, submission / Path(graded).name)
    elif layout == "zip":
        with zipfile.ZipFile(submission / "handin.zip", "w") as archive:
            for graded in GRADED_FILES:
                archive.write(REFERENCE / graded, f"handin/{graded}")


def run_autograder(root: Path, python: str = sys.executable) -> dict:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": python}
    env.pop("GRADER_CONFIG", None)
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    return results


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["template", "flat", "zip"])
def test_run_autograder_grades_each_layout_like_the_local_run(autograder_zip, tmp_path, layout, reference_graded):
    root = gradescope_root(tmp_path, autograder_zip)
    put_submission(root, layout)
    results = run_autograder(root)
    assert results["score"] == 100
    local = [(test["name"], test["score"], test["visibility"]) for test in reference_graded.results["tests"]]
    assert [(test["name"], test["score"], test["visibility"]) for test in results["tests"]] == local
    board = {entry["name"]: entry for entry in results["leaderboard"]}
    assert [entry["order"] for entry in results["leaderboard"]] == ["desc", "asc"]
    accuracy, speed = (entry["value"] for entry in results["leaderboard"])
    assert load_config(EXAMPLE).thresholds["end_to_end"] <= accuracy <= 1 and speed > 0 and len(board) == 2


@pytest.mark.slow
def test_run_autograder_scores_an_empty_submission_zero(autograder_zip, tmp_path):
    root = gradescope_root(tmp_path, autograder_zip)
    results = run_autograder(root)
    assert results["score"] == 0 and "leaderboard" not in results
    assert "Found 0 of 7 graded files" in results["output"]


def test_run_autograder_writes_results_even_when_python_is_missing(autograder_zip, tmp_path):
    root = gradescope_root(tmp_path, autograder_zip)
    results = run_autograder(root, python=str(tmp_path / "no-such-python"))
    assert results["score"] == 0 and "could not start" in results["output"]


# --- the student handout -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def handout_zip(tmp_path_factory) -> Path:
    return build("build-handout", tmp_path_factory.mktemp("build") / "handout.zip")


def test_handout_holds_no_hidden_test(handout_zip):
    hidden = hidden_suites()
    hidden_functions = set().union(*(defined_tests(path) for path in hidden))
    with zipfile.ZipFile(handout_zip) as archive:
        names = archive.namelist()
        assert not {Path(name).name for name in names} & {path.name for path in hidden}
        for name in names:
            if name.endswith(".py"):
                source = archive.read(name).decode()
                assert not [f for f in hidden_functions if f"def {f}(" in source], name


def test_handout_contains_no_reference_code(handout_zip):
    with zipfile.ZipFile(handout_zip) as archive:
        assert_no_reference_code(archive)


def test_handout_has_what_students_need(handout_zip):
    with zipfile.ZipFile(handout_zip) as archive:
        names = set(archive.namelist())
        readme = archive.read("assignment3/README.md").decode()
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
    assert {f"assignment3/submission_template/{graded}" for graded in GRADED_FILES} <= names
    assert {"assignment3/requirements.txt", "assignment3/pyproject.toml", "assignment3/scripts/ensure-env.sh", "assignment3/grader/requirements.py", "assignment3/grader/config.toml"} <= names
    assert modes["assignment3/run_grader.sh"] == 0o755
    assert not any(name.startswith("assignment3/grader/instructor/") for name in names)
    assert "./run_grader.sh" in readme and "one by one" in readme and "as a zip" in readme
    assert "| Total                            | 97" in readme and "$" not in readme


def test_handout_refuses_a_suite_that_mixes_visible_and_hidden_tests(tmp_path):
    text = (ROOT / "grader/config.toml").read_text()
    old = '"test_relu.py::test_forward_matches_torch" = { points = 1 }'
    config = tmp_path / "config.toml"
    config.write_text(text.replace(old, old.replace("}", ', visibility = "hidden" }')))
    done = subprocess.run([sys.executable, "-m", "grader", "build-handout", "-o", str(tmp_path / "h.zip"), "--config", str(config)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "test_relu.py holds visible tests" in done.stdout
    assert not (tmp_path / "h.zip").exists()


@pytest.mark.slow
def test_handout_grades_the_reference_to_all_public_points(handout_zip, tmp_path):
    folder = unpack(handout_zip, tmp_path) / "assignment3"
    results = tmp_path / "results.json"
    env = {**os.environ, "PYTHON": sys.executable}
    env.pop("GRADER_CONFIG", None)
    done = subprocess.run(["./run_grader.sh", str(REFERENCE), "--results", str(results), "--quiet"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(results.read_text())
    jsonschema.validate(document, SCHEMA)
    hidden = sum(policy.points for policy in load_config().tests.values() if policy.visibility != "visible")
    assert document["score"] == 100 - hidden and all(test["status"] == "passed" for test in document["tests"])
    assert f"TOTAL: {100 - hidden:g}/{100 - hidden:g}  (+{hidden:g} points of hidden tests, graded on Gradescope only)" in done.stdout
    assert "they run on Gradescope" in document["output"]
