"""``python -m grader rubric [--config PATH]``: every test with its points, from the one config file.

The suites are collected (not run) by the grading plugin itself, so the numbers,
names and per-case points are exactly those of a grading run. A config whose
points do not add up, or that names a test the suites do not have, is refused.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import re
from pathlib import Path

import pytest
from tabulate import tabulate

from ..config import ConfigError, GraderConfig, load_config
from ..config_schema import descriptions
from ..discover import Discovery
from ..grade import SUITES_DIR
from ..judge.plugin import GradingPlugin, GradingState, TestMeta

PYTEST_ERROR = re.compile(r"^(ERROR|E\s|[\w.]+(Error|Exception): )")


class RubricError(ValueError):
    """The config and the suites disagree; the message says how."""


def collect(config: GraderConfig, suites: Path = SUITES_DIR) -> list[TestMeta]:
    """Every test the suites hold, in report order, with the config's policy applied.

    Raises:
        RubricError: the config names a test the suites do not have, or a suite
            cannot be collected (its pytest output is in the message).
    """
    state = GradingState(config, Discovery(found={}), workers={}, violations={})
    arguments = [str(suites), "-c", str(suites / "pytest.ini"), "--rootdir", str(suites), "--collect-only", "-q", "--no-header"]
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        code = pytest.main(arguments, plugins=[GradingPlugin(state)])
    if code != pytest.ExitCode.OK:
        lines = [line.removeprefix("INTERNALERROR> ") for line in output.getvalue().splitlines()]
        errors = [line for line in lines if PYTEST_ERROR.match(line)]
        raise RubricError(f"the suites in {suites} could not be collected with {config.path}:\n" + "\n".join(errors or output.getvalue().splitlines()[-20:]))
    if state.missing_suites:
        raise RubricError(f"{config.path}: [tests] names what does not exist in the suites: {', '.join(state.missing_suites)}")
    return [outcome.meta for outcome in state.outcomes.values()]


def rows_of(tests: list[TestMeta], per_function: bool) -> list[list[str]]:
    """One row per test case as graded, or (``per_function``) per entry of the config's [tests]."""
    if not per_function:
        return [[t.number, t.name, ", ".join(t.components), f"{t.points:.4g}", t.visibility, f"{t.timeout:g} s"] for t in tests]
    keys = list(dict.fromkeys(t.key for t in tests))
    groups = {key: [t for t in tests if t.key == key] for key in keys}
    return [
        [f"{group[0].number}-{group[-1].number}" if len(group) > 1 else group[0].number, key, ", ".join(group[0].components),
         f"{sum(t.points for t in group):.4g}" + (f" ({len(group)} cases)" if len(group) > 1 else ""), group[0].visibility, f"{group[0].timeout:g} s"]
        for key, group in groups.items()
    ]


def render(config: GraderConfig, tests: list[TestMeta], per_function: bool = False) -> str:
    """One table per part with its totals, then the overall total, the dataset and the leaderboard."""
    blocks = []
    for index, part in enumerate(config.parts, start=1):
        rows = rows_of([t for t in tests if t.part == index], per_function)
        points = sum(t.points for t in tests if t.part == index)
        hidden = sum(t.points for t in tests if t.part == index and t.visibility != "visible")
        title = f"{part.name}: {points:g} points" + (f" ({hidden:g} not visible to students before grades are out)" if hidden else "")
        blocks.append(title + "\n" + tabulate(rows, headers=["#", "test", "component", "points", "visibility", "time limit"], disable_numparse=True))
    total = sum(t.points for t in tests)
    blocks.append(f"TOTAL: {total:g} points in {len(tests)} tests (total_points = {config.total_points:g})")
    thresholds = ", ".join(f"{name} {value:g}" for name, value in config.thresholds.items())
    board = ", ".join(config.leaderboard) if config.leaderboard else "off"
    blocks.append(f"Config: {config.path}\nDataset: {config.dataset} (accuracy thresholds: {thresholds})\nLeaderboard: {board}")
    return "\n\n".join(blocks)


def checked_rubric(config_path: str | Path | None) -> tuple[GraderConfig, list[TestMeta]]:
    """The config and its tests, or an error naming what is wrong; the build commands start here too."""
    config = load_config(config_path)
    tests = collect(config)
    total = sum(t.points for t in tests)
    if abs(total - config.total_points) > 1e-6:
        raise RubricError(f"{config.path}: the tests carry {total:g} points, but total_points is {config.total_points:g}")
    return config, tests


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader rubric", description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("--config", default=None, help="grading policy file (default: $GRADER_CONFIG or grader/config.toml)")
    parser.add_argument("--per-function", action="store_true", help="one row per entry of [tests] instead of one per test case")
    parser.add_argument("--keys", action="store_true", help="describe every key the config may hold, then stop")
    args = parser.parse_args(argv)
    if args.keys:
        print(tabulate(descriptions(), headers=["key", "meaning"]))
        return 0
    try:
        config, tests = checked_rubric(args.config)
    except (ConfigError, RubricError) as error:
        print(f"rubric: {error}")
        return 1
    print(render(config, tests, args.per_function))
    return 0
