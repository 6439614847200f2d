"""Stopping a grading: signals, the grading's time budget, batch's --timeout, and hangs that cost one time limit.

Each test grades a submission whose ``ReLU.forward`` spins forever with
SIGINT and SIGTERM ignored, and checks what a student or an instructor would:
the grading ends within seconds, no process it started is left, and (unless
it was SIGKILLed) results.json is valid and keeps the tests that finished.
"""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.report import results

from conftest import ROOT, hanging_relu, run_grader

pytestmark = pytest.mark.slow
SECONDS_TO_STOP = 5  # measured about 1.3 s on a loaded 2-core machine; the promise to students is 2 s


def descendants(pid: int) -> dict[int, int]:
    """pid -> uid of every live process below ``pid`` (the judge adopts its workers' orphans, so they stay below it)."""
    children: dict[int, list[int]] = {}
    uids: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            if fields.get("State", "").startswith("Z"):
                continue
            children.setdefault(int(fields["PPid"]), []).append(int(entry))
            uids[int(entry)] = int(fields["Uid"].split()[0])
    found: dict[int, int] = {}
    waiting = list(children.get(pid, []))
    while waiting:
        child = waiting.pop()
        found[child] = uids[child]
        waiting.extend(children.get(child, []))
    return found


def alive(pid: int) -> bool:
    try:
        return not Path(f"/proc/{pid}/status").read_text().split("State:\t", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return False


def wait_until_spinning(grader: subprocess.Popen[bytes], limit: float = 300) -> dict[int, int]:
    """The grader's processes once a worker is inside the endless loop."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert grader.poll() is None, "the grading ended before the endless loop was reached"
        processes = descendants(grader.pid)
        for pid in processes:
            try:
                if (Path(os.readlink(f"/proc/{pid}/cwd")) / "spinning").exists():
                    return processes
            except OSError:
                continue
        time.sleep(0.2)
    raise AssertionError("no worker reached the endless loop")


def start_grading(submission: Path, results_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "grader", str(submission), "--results", str(results_path), "--quiet"]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def send(grader: subprocess.Popen[bytes], how: str) -> None:
    if how == "SIGINT":  # what a terminal sends on Ctrl-C: to the whole foreground process group
        os.killpg(grader.pid, signal.SIGINT)
    else:
        grader.send_signal(getattr(signal, how))


MODES = [("SIGINT", "confined"), ("SIGTERM", "confined"), ("SIGKILL", "confined"), ("SIGKILL", "unconfined")]


@pytest.mark.parametrize(("how", "mode"), MODES, ids=[f"{how}-{mode}" for how, mode in MODES])
def test_a_signal_stops_the_grading_and_leaves_no_process(how: str, mode: str, tmp_path: Path) -> None:
    if mode == "confined" and os.geteuid() != 0:
        pytest.fail("the confined worker needs root: run the harness's tests as root, as CI does")
    submission = hanging_relu(tmp_path / "submission")
    env = {**os.environ, "GRADER_UNCONFINED": "1" if mode == "unconfined" else "0"}
    grader = start_grading(submission, tmp_path / "results.json", env)
    try:
        processes = wait_until_spinning(grader)
        sent = time.monotonic()
        send(grader, how)
        code = grader.wait(timeout=60)
        seconds = time.monotonic() - sent
    finally:
        if grader.poll() is None:
            os.killpg(grader.pid, signal.SIGKILL)
    worker_uids = {uid for uid in processes.values() if uid != 0}
    time.sleep(2)  # the kernel's parent-death signals and the reaper act within this
    left = [pid for pid in processes if alive(pid)]
    left += [pid for pid, uid in descendants(1).items() if uid in worker_uids]
    print(f"{how} ({mode}): the grader exited {seconds:.2f} s after the signal, with code {code}")
    assert not left, f"processes left after {how}: {left}"
    assert seconds < SECONDS_TO_STOP
    if how == "SIGKILL":
        return
    assert code == 128 + getattr(signal, how)
    document = json.loads((tmp_path / "results.json").read_text())
    results.validate(document)
    passed = [test for test in document["tests"] if test["status"] == "passed"]
    assert passed and all(test["name"].startswith(("conv", "maxpool")) for test in passed)  # the components before relu
    assert f"interrupted by {how}" in document["output"] and "run again to grade the rest" in document["output"]
    not_run = [test for test in document["tests"] if test["output"].startswith("not run: interrupted")]
    assert len(not_run) == len(document["tests"]) - len([test for test in document["tests"] if not test["output"].startswith("not run")])


def slow_config(tmp_path: Path, **top_level: object) -> Path:
    """The default config with other top-level settings (time limits)."""
    text = (ROOT / "grader/config.toml").read_text()
    for key, value in top_level.items():
        lines = [line for line in text.splitlines() if not line.startswith(f"{key} ")]
        text = f"{key} = {value}\n" + "\n".join(lines) + "\n"
    config = tmp_path / "config.toml"
    config.write_text(text.replace('root = "../data"', f'root = "{ROOT / "data"}"'))
    return config


def test_a_hanging_function_costs_one_time_limit(tmp_path: Path) -> None:
    config = slow_config(tmp_path, default_timeout=4)
    graded = run_grader(hanging_relu(tmp_path / "submission"), tmp_path / "results.json", "--config", str(config))
    relu_tests = [test for test in graded.results["tests"] if "relu" in test["tags"]]
    timed_out = [test for test in relu_tests if "did not finish within the time limit" in test["output"]]
    refused = [test for test in relu_tests if "`ReLU.forward` did not return within 4 s in test" in test["output"]]
    assert len(timed_out) == 1 and "[your code was in ReLU.forward (relu.py, line" in timed_out[0]["output"]
    assert f"in test {timed_out[0]['number']}; not called again" in refused[0]["output"]
    assert len(timed_out) + len(refused) == len(relu_tests)
    lost = {test["name"] for test in graded.failed}
    assert all("relu" in test["tags"] for test in graded.failed), lost  # the scratch CNN test uses every Part 1 layer


def test_the_grading_budget_keeps_the_finished_tests(tmp_path: Path) -> None:
    """batch --timeout is the grader's budget: the tests that finished are kept, the summary says timeout."""
    config = slow_config(tmp_path, default_timeout=1000)  # only the budget can stop the endless loop
    submission = hanging_relu(tmp_path / "hangs")
    out = tmp_path / "batch"
    done = subprocess.run([sys.executable, "-m", "grader", "batch", str(submission), "--out", str(out), "--timeout", "90",
                           "--config", str(config)], cwd=ROOT, capture_output=True, text=True, timeout=400)
    row = next(csv.DictReader((out / "summary.csv").open()))
    document = json.loads((out / "hangs.json").read_text())
    results.validate(document)
    assert row["status"] == "timeout", done.stdout + done.stderr
    assert float(row["score"]) == document["score"] > 0
    assert "the grading hit its time limit of 90 s while running test" in document["output"]
    assert "your ReLU.forward did not return" in document["output"]
    not_run = [test for test in document["tests"] if test["output"].startswith("not run: the grading hit its time limit")]
    assert not_run and all(test["score"] == 0 for test in not_run)
    assert [test for test in document["tests"] if test["status"] == "passed"]
