"""The two zips an instructor hands out, built and used as Gradescope and students use them.

The autograder zip is unpacked into a folder laid out like Gradescope's /autograder
(source/, submission/, results/, submission_metadata.json) and run_autograder grades
submissions in each layout a student may upload. setup.sh needs the network, so
this machine's interpreter stands in for the venv it builds (GRADER_PYTHON).
The handout is unpacked and its run_grader.sh grades the reference.
"""
from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grader.config import load_config
from grader.instructor.package import shipped, unpack, write_zip
from grader.report.results import SCHEMA
from grader.worker.runtime.assignment import graded_files

from autograder_root import LAYOUTS, gradescope_root, put_submission
from conftest import REFERENCE, ROOT, TEMPLATE, leaderboard_on

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
    return {(REFERENCE / graded).read_bytes().strip(): graded for graded in graded_files()}


def assert_no_reference_code(archive: zipfile.ZipFile) -> None:
    texts = reference_texts()
    for info in archive.infolist():
        assert "reference" not in Path(info.filename).parts, info.filename
        assert archive.read(info).strip() not in texts, f"{info.filename} is reference/{texts.get(archive.read(info).strip())}"


# --- the autograder zip ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def leaderboard_config(tmp_path_factory) -> Path:
    return leaderboard_on(tmp_path_factory.mktemp("config") / "config.toml")


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory, leaderboard_config) -> Path:
    return build("build-autograder", tmp_path_factory.mktemp("build") / "autograder.zip", "--config", str(leaderboard_config))


def test_autograder_has_setup_and_run_autograder_at_its_root(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert {"requirements.txt", "self_check.py", "gradescope-settings.txt", "grader/__main__.py", "grader/config.toml",
            "grader/calibration.json", "grader/judge/suites/pytest.ini"} <= set(modes)  # the reference's curves beside the config


def test_autograder_carries_the_stubs_its_self_check_grades(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        for graded in graded_files():
            assert archive.read(f"submission_template/{graded}") == (TEMPLATE / graded).read_bytes(), graded


def test_autograder_contains_no_reference_code(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        assert_no_reference_code(archive)
        names = archive.namelist()
    assert not any(name.startswith(("grader/instructor/", "tests/")) for name in names)


def test_autograder_carries_every_suite_hidden_ones_included(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
    assert {f"grader/judge/suites/{path.name}" for path in SUITES.glob("test_*.py")} <= names
    assert hidden_suites(), "the default config hides no suite: nothing to check"


def test_autograder_ships_the_chosen_config(autograder_zip, leaderboard_config):
    with zipfile.ZipFile(autograder_zip) as archive:
        assert archive.read("grader/config.toml") == leaderboard_config.read_bytes()


def test_setup_installs_pinned_cpu_wheels_beside_the_system_python(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        setup = archive.read("setup.sh").decode()
        assert archive.read("requirements.txt") == (ROOT / "requirements.txt").read_bytes()
    assert "-r \"$SOURCE/requirements.txt\"" in setup and "${GRADER_TORCH_INDEX-https://download.pytorch.org/whl/cpu}" in setup
    assert "torch.version.cuda is not None" in setup and "\"$SOURCE/self_check.py\" \"$SOURCE/submission_template\"" in setup
    assert "prefetch(config.dataset, config.data_root)" in setup
    assert "update-alternatives" not in setup and "/usr/bin/python3 " not in setup


@pytest.mark.parametrize("script", ["setup.sh", "run_autograder"])
def test_scripts_are_valid_bash(autograder_zip, tmp_path, script):
    unpack(autograder_zip, tmp_path)
    done = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# --- the same zips from a Windows checkout ------------------------------------------------------

SCRIPTS = ("setup.sh", "run_autograder", "assignment3/run_grader.sh")  # run directly: executable
PROJECT_PARTS = ("grader", "reference", "submission_template", "scripts", "requirements.txt", "pyproject.toml", "run_grader.sh")


def windows_checkout(destination: Path) -> Path:
    """A copy of the project as Windows may check it out: CRLF in every text file, no executable bits."""
    for part in PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, destination / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, destination / part)
    for path in destination.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if b"\0" not in data:  # text
                path.write_bytes(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
            path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o111)
    return destination


@pytest.fixture(scope="module")
def windows_zips(tmp_path_factory) -> dict[str, zipfile.ZipFile]:
    checkout = windows_checkout(tmp_path_factory.mktemp("windows"))
    assert b"\r\n" in (checkout / "grader/instructor/files/setup.sh").read_bytes()
    zips = {}
    for command in ("build-autograder", "build-handout"):
        done = subprocess.run([sys.executable, "-m", "grader", command, "-o", str(checkout / f"{command}.zip")],
                              cwd=checkout, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        zips[command] = zipfile.ZipFile(checkout / f"{command}.zip")
    return zips


def test_zips_built_on_windows_are_marked_unix_with_modes(windows_zips):
    for archive in windows_zips.values():
        for info in archive.infolist():
            assert info.create_system == 3, info.filename
            expected = 0o755 if info.filename in SCRIPTS else 0o644
            assert info.external_attr >> 16 == stat.S_IFREG | expected, info.filename


def test_zip_entries_are_unix_ones_when_python_runs_on_windows(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")  # zipfile then marks entries as written by MS-DOS (0)
    path = write_zip(tmp_path / "a.zip", [shipped("run_autograder", b"#!/usr/bin/env bash\r\nexit 0\r\n")])
    monkeypatch.undo()
    with zipfile.ZipFile(path) as archive:
        [info] = archive.infolist()
        assert (info.create_system, info.external_attr >> 16) == (3, stat.S_IFREG | 0o755)
        assert archive.read(info) == b"#!/usr/bin/env bash\nexit 0\n"


def test_scripts_built_on_windows_have_lf_endings(windows_zips):
    scripts = {info.filename: archive.read(info) for archive in windows_zips.values() for info in archive.infolist()
               if info.filename.endswith((".sh", "run_autograder"))}
    assert set(SCRIPTS) | {"assignment3/scripts/ensure-env.sh"} <= set(scripts)
    checkout = {"setup.sh": "grader/instructor/files/setup.sh", "run_autograder": "grader/instructor/files/run_autograder"}
    for name, data in scripts.items():
        assert b"\r" not in data, name
        assert data == (ROOT / checkout.get(name, name.removeprefix("assignment3/"))).read_bytes(), name


def test_the_settings_summary_is_the_one_in_the_docs(autograder_zip, tmp_path):
    with zipfile.ZipFile(autograder_zip) as archive:
        settings = archive.read("gradescope-settings.txt").decode()
    assert settings.strip() in (ROOT / "docs/instructor.md").read_text()
    done = subprocess.run([sys.executable, "-m", "grader", "build-autograder", "-o", str(tmp_path / "autograder.zip")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert settings.strip() in done.stdout


# --- run_autograder ----------------------------------------------------------------------------

def run_autograder(root: Path, python: str = sys.executable, **settings: str) -> dict:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": python, **settings}
    env.pop("GRADER_CONFIG", None)
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    return results


@pytest.mark.slow
@pytest.mark.parametrize("layout", LAYOUTS)
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
    assert load_config().thresholds["end_to_end"] <= accuracy <= 1 and speed > 0 and len(board) == 2


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


def test_run_autograder_never_passes_off_a_results_file_already_there(autograder_zip, tmp_path):
    root = gradescope_root(tmp_path, autograder_zip)
    (root / "results" / "results.json").write_text(json.dumps({"score": 100, "tests": []}))
    results = run_autograder(root, python=str(tmp_path / "no-such-python"))
    assert results["score"] == 0 and "could not start" in results["output"]


def fake_python(folder: Path, script: str) -> str:
    path = folder / "fake-python"
    path.write_text(f"#!/usr/bin/env bash\n{script}\n")
    path.chmod(0o755)
    return str(path)


def test_run_autograder_stops_a_grading_that_ignores_sigterm(autograder_zip, tmp_path):
    root = gradescope_root(tmp_path, autograder_zip)
    started = time.monotonic()
    results = run_autograder(root, python=fake_python(tmp_path, "trap '' TERM\nsleep 300"), GRADER_WALL_LIMIT="1")
    assert results["score"] == 0 and "did not finish within 1 s" in results["output"]
    assert time.monotonic() - started < 60  # 1 s, then TERM is ignored: KILL 10 s later


def test_run_autograder_tells_a_kill_from_the_time_limit(autograder_zip, tmp_path):
    root = gradescope_root(tmp_path, autograder_zip)
    results = run_autograder(root, python=fake_python(tmp_path, "kill -9 $$"))  # as the OOM killer does
    assert results["score"] == 0 and "killed by signal 9 after 0 s (signal 9: most likely out of memory)" in results["output"]


# --- setup.sh's self-check -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def self_check():
    spec = importlib.util.spec_from_file_location("self_check", ROOT / "grader/instructor/files/self_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stub_result(name: str, visibility: str = "visible", status: str = "failed", output: str = "conv: forward\n  not implemented yet") -> dict:
    return {"name": name, "score": 0, "max_score": 1, "status": status, "output": output, "tags": ["conv"], "visibility": visibility}


def test_self_check_accepts_what_the_stubs_honestly_get(self_check):
    document = {"score": 0, "output": "Found all 7 graded files.",
                "tests": [stub_result("conv: forward"), stub_result("hidden: conv", "hidden", output="This hidden test failed.")]}
    assert self_check.problems(document) == []


@pytest.mark.parametrize("spoil, complaint", [
    (lambda d: d.update(score="0"), "does not follow Gradescope's format"),
    (lambda d: d.update(tests=[]), "no test ran"),
    (lambda d: d.update(score=1), "scored 1, not 0"),
    (lambda d: d["tests"].append(stub_result("relu: forward", status="passed")), "1 tests passed with the stubs: relu: forward"),
    (lambda d: d["tests"].append(stub_result("relu: forward", output="the worker crashed")), "do not say 'not implemented yet': relu: forward"),
], ids=["invalid", "harness_failed", "score", "passed", "other_failure"])
def test_self_check_refuses_anything_else(self_check, spoil, complaint):
    document = {"score": 0, "output": "", "tests": [stub_result("conv: forward")]}
    spoil(document)
    assert any(complaint in problem for problem in self_check.problems(document))


def test_self_check_refuses_the_harness_fallback(self_check):
    from grader.report.results import fallback_document

    assert self_check.problems(fallback_document("Traceback: PermissionError"))[0].startswith("no test ran: The autograder could not grade")


@pytest.mark.slow
def test_self_check_passes_on_the_template_and_fails_setup_on_a_solution(autograder_zip, tmp_path, self_check):
    source = unpack(autograder_zip, tmp_path / "source")
    passing = subprocess.run([sys.executable, str(source / "self_check.py"), str(source / "submission_template")],
                             capture_output=True, text=True, timeout=600)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "self-check: OK: the template graded in" in passing.stdout and f"0/{load_config().total_points:g}," in passing.stdout
    failing = subprocess.run([sys.executable, str(source / "self_check.py"), str(REFERENCE)], capture_output=True, text=True, timeout=600)
    assert failing.returncode == 1 and "self-check: FAILED" in failing.stderr and "tests passed with the stubs" in failing.stderr


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
    assert {f"assignment3/submission_template/{graded}" for graded in graded_files()} <= names
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
