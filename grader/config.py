"""The grading policy, read from one TOML file (``grader/config.toml`` by default).

Points, visibility, time limits, thresholds, training recipes and the dataset
live there; tests hold logic only. The file is chosen by ``--config``, else the
``GRADER_CONFIG`` environment variable, else the default.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 (Gradescope's image)
    import tomli as tomllib

from . import config_schema

DEFAULT_PATH = Path(__file__).with_name("config.toml")
VISIBILITIES = config_schema.VISIBILITIES
LEADERBOARD_ENTRIES = config_schema.LEADERBOARD_ENTRIES


@dataclass(frozen=True)
class Limits:
    """What a confined worker may use ([limits] of the config)."""

    memory_mb: int  # address space of each process; also the judge's limit on the resident memory of all of them
    file_size_mb: int
    processes: int  # processes and threads of the worker user, all together
    output_kib: int
    open_files: int = 1024


class ConfigError(ValueError):
    """A config that cannot be graded with; the message names the file and the key."""


@dataclass(frozen=True)
class TestPolicy:
    __test__ = False  # not a pytest test class
    points: float
    visibility: str
    timeout: float
    hide_errors: str | None = None  # the message a failure shows instead of its own


@dataclass(frozen=True)
class Part:
    name: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class GraderConfig:
    path: Path
    total_points: float
    tests: dict[str, TestPolicy]
    parts: tuple[Part, ...]
    limits: Limits
    worker_start_seconds: float
    dataset: str
    data_root: Path
    seed: int
    dataset_options: dict[str, Any]
    thresholds: dict[str, float]
    training: dict[str, dict[str, Any]]
    leaderboard: tuple[str, ...]
    budget_seconds: float  # wall time of the whole grading, results.json included
    gradescope_output_format: str = "text"  # "html": each test's output as HTML, its figure inline

    def __repr__(self) -> str:
        return f"GraderConfig({self.path.name}: {len(self.tests)} tests, {self.total_points:g} points, dataset {self.dataset})"

    def policy(self, test_id: str) -> TestPolicy:
        if test_id not in self.tests:
            raise ConfigError(f"{self.path}: test {test_id} has no entry under [tests]")
        return self.tests[test_id]

    def order_of(self, file_name: str) -> tuple[int, int]:
        """(1-based part, position in that part's list) of a suite file: the report's order."""
        for index, part in enumerate(self.parts, start=1):
            if file_name in part.files:
                return index, part.files.index(file_name)
        raise ConfigError(f"{self.path}: suite {file_name} is not listed in any [[parts]]")

    def part_of(self, file_name: str) -> int:
        return self.order_of(file_name)[0]


def config_path(explicit: str | Path | None = None) -> Path:
    return Path(explicit or os.environ.get("GRADER_CONFIG") or DEFAULT_PATH)


def load_config(path: str | Path | None = None, *, dataset: str | None = None) -> GraderConfig:
    """Read and validate the config; a bad one raises ``ConfigError`` naming the key.

    ``dataset`` replaces the file's [data] dataset (to calibrate or try another one).
    """
    path = config_path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from None
    if dataset is not None:
        raw.setdefault("data", {})["dataset"] = dataset
    return _parse(path, raw)


def _parse(path: Path, raw: dict[str, Any]) -> GraderConfig:
    found = config_schema.problems(raw)
    if found:
        raise ConfigError(f"{path}: " + "\n  ".join(found))
    def need(table: dict[str, Any], key: str, where: str) -> Any:
        if key not in table:
            raise ConfigError(f"{path}: missing '{key}' in {where}")
        return table[key]

    default_timeout = float(raw.get("default_timeout", 30))
    default_visibility = raw.get("default_visibility", "visible")
    tests = {}
    for test_id, entry in need(raw, "tests", "the file").items():
        visibility = entry.get("visibility", default_visibility)
        tests[test_id] = TestPolicy(float(need(entry, "points", test_id)), visibility, float(entry.get("timeout", default_timeout)), entry.get("hide_errors"))
    total = float(need(raw, "total_points", "the file"))
    configured = sum(policy.points for policy in tests.values())
    if abs(configured - total) > 1e-9:
        raise ConfigError(f"{path}: the points under [tests] add up to {configured:g}, but total_points is {total:g}")
    data = raw.get("data", {})
    dataset = data.get("dataset", "digits")
    datasets = need(raw, "datasets", "the file")
    if dataset not in datasets:
        raise ConfigError(f"{path}: [data] dataset '{dataset}' has no [datasets.{dataset}] table")
    options = dict(datasets[dataset])
    limits = raw.get("limits", {})
    leaderboard = raw.get("leaderboard", {})
    entries = tuple(leaderboard.get("entries", ())) if leaderboard.get("enabled", False) else ()
    return GraderConfig(
        path=path,
        total_points=total,
        tests=tests,
        parts=tuple(Part(need(p, "name", "[[parts]]"), tuple(need(p, "files", "[[parts]]"))) for p in need(raw, "parts", "the file")),
        limits=Limits(
            memory_mb=int(limits.get("memory_mb", 6144)),
            file_size_mb=int(limits.get("file_size_mb", 64)),
            processes=int(limits.get("processes", 64)),
            output_kib=int(limits.get("output_kib", 64)),
        ),
        worker_start_seconds=float(limits.get("worker_start_seconds", 120)),
        dataset=dataset,
        data_root=(path.parent / data.get("root", "data")).resolve(),
        seed=int(data.get("seed", 0)),
        dataset_options=options,
        thresholds=dict(need(options, "thresholds", f"[datasets.{dataset}]")),
        training=dict(raw.get("training", {})),
        leaderboard=entries,
        budget_seconds=float(raw.get("grading_budget_seconds", 420)),
        gradescope_output_format=raw.get("report", {}).get("gradescope_output_format", "text"),
    )
