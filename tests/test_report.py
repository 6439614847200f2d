"""report.html and overview.html: figure data, figures, Gradescope's HTML outputs, and the pages in a real browser."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.judge import evidence
from grader.report import html, overview, results

from conftest import ROOT, Graded, overlay, run_grader

CORPUS = ROOT / "tests" / "corpus" / "mutants"
BROWSERS = ("chromium-headless-shell", "chromium")
BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--hide-scrollbars",
                 "--enable-logging=stderr", "--v=0", "--window-size=1000,1400")
CONSOLE_ERRORS = ("Uncaught", ":CONSOLE(", "Failed to load resource")


class Page(HTMLParser):
    """What the checks need from a report: each failing test's summary and figure kinds, and every outside reference."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.failing: list[dict[str, Any]] = []
        self.outside: list[str] = []
        self.scripts = 0
        self._in_summary = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "details" and attributes.get("class") == "fail":
            self.failing.append({"summary": "", "figures": []})
        if tag == "summary" and self.failing and not self.failing[-1]["summary"]:
            self._in_summary = True
        if tag == "img" and self.failing:
            self.failing[-1]["figures"].append(attributes.get("data-kind"))
        self.scripts += tag == "script"
        for name in ("src", "href"):
            value = attributes.get(name) or ""
            if value and not value.startswith(("data:", "#")) and not value.endswith(".html"):
                self.outside.append(value)

    def handle_data(self, data: str) -> None:
        if self._in_summary:
            self.failing[-1]["summary"] += data

    def handle_endtag(self, tag: str) -> None:
        self._in_summary = self._in_summary and tag != "summary"


def mutant(destination: Path, name: str) -> Path:
    folder = CORPUS / name
    return overlay(destination, {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*.py")})


def browser() -> str:
    """Headless Chromium, installed from Debian's packages when absent and we are root (as in CI)."""
    found = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium-headless-shell"], check=True, capture_output=True, timeout=900,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which("chromium-headless-shell")
    if found is None:
        pytest.fail("headless Chromium is needed: apt-get install chromium-headless-shell (as root)")
    return found


def screenshot(page: Path, png: Path) -> str:
    """Render ``page`` to ``png``; the browser's log (where console errors would be)."""
    done = subprocess.run([browser(), *BROWSER_FLAGS, f"--screenshot={png}", page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and png.exists(), done.stderr[-2000:]
    return done.stderr


def assert_renders(page: Path, tmp_path: Path) -> None:
    """Not blank, no console error, nothing loaded from outside."""
    log = screenshot(page, tmp_path / f"{page.stem}.png")
    import matplotlib.image

    pixels = matplotlib.image.imread(tmp_path / f"{page.stem}.png")
    assert float(np.var(pixels[..., :3])) > 1e-3, "the page renders blank"
    assert not [line for line in log.splitlines() if any(marker in line for marker in CONSOLE_ERRORS)], log
    parsed = Page(page.read_text())
    assert parsed.outside == [] and parsed.scripts == 0


@pytest.fixture(scope="module")
def conv_dx(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    folder = tmp_path_factory.mktemp("conv_dx")
    return run_grader(mutant(folder / "submission", "conv_dx_overlap_assigned"), folder / "out" / "results.json")


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Graded, Path]:
    """A train_epoch without zero_grad (its loop tests fail and the end-to-end test misses its threshold),
    graded with progress lines, --report, and Gradescope's outputs in HTML."""
    folder = tmp_path_factory.mktemp("loop")
    report = folder / "elsewhere" / "mine.html"
    config = folder / "config.toml"
    config.write_text((ROOT / "grader" / "config.toml").read_text().replace('gradescope_output_format = "text"', 'gradescope_output_format = "html"'))
    command = [sys.executable, "-m", "grader", str(mutant(folder / "submission", "train_epoch_no_zero_grad")), "--results", str(folder / "results.json"),
               "--report", str(report), "--config", str(config)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    return Graded(done.returncode, json.loads((folder / "results.json").read_text()), done.stdout + done.stderr, folder / "results.json"), report


def test_evidence_keeps_the_plane_of_the_worst_element_cropped_around_it():
    expected = np.zeros((2, 3, 40, 40))
    actual = expected.copy()
    actual[1, 2, 30, 5] = 9.0
    item = evidence.array_difference("dx", actual, expected, (1, 2, 30, 5), 1e-6, "torch", ("sample", "channel", "row", "column"), [])
    plane = np.asarray(item["actual"])
    assert plane.shape == (evidence.CROP, evidence.CROP)
    assert plane[tuple(item["worst"])] == 9.0 and np.count_nonzero(plane) == 1
    assert item["slice"] == f"[1, 2, {40 - evidence.CROP}:40, 0:{evidence.CROP}]" and item["axes"] == ["row", "column"]


def test_evidence_that_cannot_be_built_is_dropped_and_a_wild_loop_is_cut():
    evidence.take()
    evidence.keep(evidence.from_scenario, "loop.validate", {}, {"calls": []}, {})  # no "x" in the arguments: a KeyError, ignored
    assert evidence.take() == []
    wild = {"calls": [{"training": True, "grad_enabled": True}] * 1000, "grads_created": []}
    evidence.keep(evidence.from_scenario, "loop.validate", {"x": [0] * 22, "batch_size": 8}, wild, {})
    (timeline,) = evidence.take()
    assert len(timeline["expected"]) == 3 and len(timeline["actual"]) == evidence.MAX_EVENTS


def test_every_kind_of_evidence_draws_a_picture():
    import base64
    import io

    import matplotlib.image

    from grader.report import figures

    values = np.arange(12.0).reshape(3, 4)
    drawn = {
        "array": evidence.array_difference("dw", values * 2, values, (2, 3), 1e-3, "torch", (), ["Every value is 2 times the expected one."]),
        "shape": evidence.wrong_shape("out", (2, 3, 4), (2, 4, 4)),
        "timeline": evidence.loop_timeline("validate", {"calls": [{"training": True, "grad_enabled": True}] * 3, "grads_created": ["w"]}, 3),
        "curve": evidence.learning_curve("twolayer", {"history": [[2.0, 0.3], [1.5, 0.5]]}, 0.8),
    }
    for kind, item in drawn.items():
        pixels = matplotlib.image.imread(io.BytesIO(base64.b64decode(figures.draw(item))), format="png")
        assert item["kind"] == kind and pixels.shape[0] > 50 and float(np.var(pixels[..., :3])) > 1e-3, kind


def test_a_learning_curve_shows_the_reference_band_beside_the_submission():
    from grader.calibration import band_of
    from grader.report import figures

    band = band_of([[[2.0, 0.3], [1.0, 0.8]], [[2.4, 0.2], [0.6, 0.9]]])
    item = evidence.learning_curve("twolayer", {"history": [[2.3, 0.1], [2.2, 0.15]]}, 0.8, band)
    figure = figures.curve_figure(item)
    for axis, (low, high) in zip(figure.axes, [(0.6, 2.4), (0.2, 0.9)]):
        (filled,) = axis.collections[:1]
        heights = filled.get_paths()[0].vertices[:, 1]
        assert (heights.min(), heights.max()) == (low, high)
        assert "2 seeds (min to max)" in filled.get_label()
    assert "reference" not in evidence.learning_curve("twolayer", {"history": [[2.3, 0.1]]}, 0.8)  # not calibrated: no band


def test_gradescope_html_keeps_results_under_the_limit_and_says_what_it_left_out():
    tests = [{"name": f"conv: t{i}", "number": f"1.{i}", "score": 0, "max_score": 1, "status": "failed", "output": "dx differs <here>"} for i in range(40)]
    document = {"score": 0, "tests": tests}
    big = "A" * 60_000  # a base64 PNG's worth
    converted = html.gradescope_html(document, {test["number"]: [("array", big)] for test in tests})
    assert results.encoded_size(converted) <= results.MAX_DOCUMENT_BYTES
    outputs = [test["output"] for test in converted["tests"]]
    assert all(test["output_format"] == "html" for test in converted["tests"]) and "&lt;here&gt;" in outputs[0]
    assert "data:image/png" in outputs[0] and html.LEFT_OUT in outputs[-1]
    results.validate(converted)


def test_a_figure_that_cannot_be_drawn_is_a_note_and_results_are_untouched(tmp_path: Path, conv_dx: Graded):
    from grader.judge.plugin import TestMeta, TestOutcome

    meta = TestMeta("k", "conv: broken", "1.1", 1.0, "visible", 30.0, ("conv",), 1)
    state = type("State", (), {"outcomes": {"x": TestOutcome(meta, passed=False, message="m", evidence=[{"kind": "unknown"}])}})()
    before = conv_dx.results_path.read_bytes()
    html.publish(conv_dx.results_path, conv_dx.results, state, tmp_path / "report.html")  # type: ignore[arg-type]
    assert conv_dx.results_path.read_bytes() == before
    assert "The figures could not be drawn (KeyError" in (tmp_path / "report.html").read_text()


def test_reference_report_renders_without_failures(reference_graded: Graded, tmp_path: Path):
    report = reference_graded.results_path.with_name("report.html")
    assert reference_graded.stdout.strip().splitlines()[-1] == f"Report with figures: {report}"
    assert Page(report.read_text()).failing == []
    assert_renders(report, tmp_path)


def test_wrong_conv_dx_shows_heatmaps_and_hidden_tests_none(conv_dx: Graded, tmp_path: Path):
    report = conv_dx.results_path.with_name("report.html")
    failing = {entry["summary"].split(" ")[0]: entry for entry in Page(report.read_text()).failing}
    assert set(failing) == {test["number"] for test in conv_dx.failed}
    for test in conv_dx.failed:
        kinds = failing[test["number"]]["figures"]
        assert kinds == ([] if test["visibility"] != "visible" else ["array"]), test["name"]
        assert all(html.escape(line.strip()) in report.read_text() for line in test["output"].splitlines()), test["name"]  # laid out in parts
    assert any(test["visibility"] != "visible" for test in conv_dx.failed)  # the hidden conv test fails too, without a figure
    assert_renders(report, tmp_path)


def test_failing_loop_shows_timelines_and_the_missed_threshold_its_curve(loop: tuple[Graded, Path], tmp_path: Path):
    graded, report = loop
    assert not graded.results_path.with_name("report.html").exists()
    figures = {entry["summary"].split(" ", 1)[1].rsplit(":", 1)[0]: entry["figures"] for entry in Page(report.read_text()).failing}
    assert figures and all("timeline" in kinds for name, kinds in figures.items() if name.startswith("train_epoch"))
    assert figures["end_to_end: student cnn with student loop learns"] == ["curve"]
    assert_renders(report, tmp_path)


def test_gradescope_outputs_are_html_with_the_figures_when_configured(loop: tuple[Graded, Path]):
    graded, _ = loop
    assert all(test["output_format"] == "html" and test["output"].startswith("<pre>") for test in graded.results["tests"])
    assert all('<img class="figure"' in test["output"] for test in graded.failed)
    assert graded.results_path.stat().st_size < results.MAX_DOCUMENT_BYTES
    results.validate(graded.results)


def test_progress_is_one_line_per_component_and_nothing_follows_the_total_but_the_report(loop: tuple[Graded, Path]):
    graded, report = loop
    lines = graded.stdout.strip().splitlines()
    components = list(html.components(graded.results["tests"]))
    progress = [line.split(":")[0] for line in lines if line.endswith("tests failed")]
    assert progress == components
    assert lines[-1] == f"Report with figures: {report}" and lines[-2].startswith("TOTAL:")
    assert " error" not in graded.stdout.lower() and " failed in " not in graded.stdout


def test_overview_names_loss_rates_causes_and_links(conv_dx: Graded, reference_graded: Graded, tmp_path: Path):
    graded = [("reference", "reference.html", reference_graded.results), ("conv_dx", "conv_dx.html", conv_dx.results), ("broken", "broken.html", None)]
    overview.write(tmp_path / "overview.html", graded)
    text = (tmp_path / "overview.html").read_text()
    assert "<td>conv</td><td>50%</td>" in text and "<td>relu</td><td>0%</td>" in text
    first = conv_dx.failed[0]
    assert f"<td>{html.escape(first['name'].split(' [')[0])}</td><td>50%</td><td>{html.escape(overview.cause_of(first['output']))}" in text
    assert all(f'href="{report}"' in text for _, report, _ in graded)
    assert_renders(tmp_path / "overview.html", tmp_path)


def test_cause_prefers_a_detected_pattern_to_the_hint():
    message = "Conv2D(...)\n  dx differs\n  Every value is 2 times the expected one.\n  Hint: add"
    assert overview.cause_of(message) == "Every value is 2 times the expected one."
    assert overview.cause_of("call\n  x differs\n  Hint: add") == "Hint: add"
    assert overview.cause_of("call\n  out has shape (2, 3), expected (3, 2) (the expected shape reversed: transposed?)") == "the expected shape reversed: transposed?"
