"""``python -m grader bench [SUBMISSION]``: how fast the layers are next to torch, and where grading time goes.

One run prints everything, measured on this machine in this run:

1. layers: the submission's ``Conv2D`` and ``MaxPool2D`` (the reference's by
   default) against torch on the CPU, on three shapes each, in float64 and
   float32: median forward and backward times and the ratio to torch;
2. imports: what each library costs a fresh interpreter, in the order the judge
   imports them;
3. workers: how long each worker takes to start, on its own;
4. grading: full gradings of the submission (``python -m grader``, as a student
   runs it), split into phases: start-up, collection, each suite, finish.

Layers are timed with ``--threads`` threads (default 1, as the workers run) in
torch and in NumPy's BLAS. Timings on a shared machine are noisy: each figure is
a median, and the machine's load average is printed with them. Nothing here
asserts a time; ``--json`` keeps every figure for the record.

The gradings are timed from outside, from pytest's verbose progress lines as
they arrive (each test's id is printed when it starts), so what is timed is
exactly ``python -m grader SUBMISSION``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Shape:
    """One benchmarked call: a layer, its constructor arguments and its input shape."""

    label: str
    component: str  # "conv" or "maxpool"
    x_shape: tuple[int, int, int, int]
    init: dict[str, int]
    targets: dict[str, float] = field(default_factory=dict)  # dtype -> highest ratio to torch the issue asks for

    def __repr__(self) -> str:
        return f"{self.label} {self.x_shape}"

    @property
    def stride(self) -> int:
        return self.init.get("stride", 1 if self.component == "conv" else self.init["kernel_size"])

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        n, c, h, w = self.x_shape
        k, s, p = self.init["kernel_size"], self.stride, self.init.get("padding", 0)
        return (n, self.init.get("out_channels", c), (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)

    @property
    def work(self) -> int:
        """Multiply-adds (conv) or comparisons (max-pool) of one forward pass: what scales a call's time."""
        n, c, h, w = self.out_shape
        k = self.init["kernel_size"]
        return n * c * h * w * k * k * (self.x_shape[1] if self.component == "conv" else 1)


SHAPES = (
    Shape("scratch CNN, digits", "conv", (32, 1, 8, 8), {"in_channels": 1, "out_channels": 4, "kernel_size": 3, "stride": 1, "padding": 1}),
    Shape("strided, padded", "conv", (32, 16, 16, 16), {"in_channels": 16, "out_channels": 32, "kernel_size": 3, "stride": 2, "padding": 1}),
    Shape("VanillaCNN layer", "conv", (64, 3, 32, 32), {"in_channels": 3, "out_channels": 32, "kernel_size": 7, "stride": 1, "padding": 0},
          targets={"float64": 1.0, "float32": 1.5}),
    Shape("scratch CNN, digits", "maxpool", (32, 4, 8, 8), {"kernel_size": 2}),
    Shape("overlapping windows", "maxpool", (32, 16, 16, 16), {"kernel_size": 3, "stride": 2}),
    Shape("VanillaCNN layer", "maxpool", (64, 32, 26, 26), {"kernel_size": 2}, targets={"float64": 1.5, "float32": 1.5}),
)

# Incremental import costs, in the order the judge pays them (each step in the same fresh interpreter).
IMPORT_STEPS = (
    ("numpy", "import numpy"),
    ("pytest, jsonschema, tabulate: the judge's own modules", "import grader.grade, grader.report.console"),
    ("torch (judge: collection; Part 2 worker: start-up)", "import torch"),
    ("torch._dynamo, imported by the first torch.optim optimizer", "torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)"),
    ("sklearn.datasets (loads the digits)", "import sklearn.datasets"),
    ("torchvision (never imported while grading)", "import torchvision"),
)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def machine_line() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, load average (1/5/15 min) {load_average()}, Python {platform.python_version()}"


# --- 1. layers against torch ---------------------------------------------------------------------


@dataclass
class LayerTiming:
    shape: str
    component: str
    dtype: str
    layer_forward_ms: float = float("nan")
    layer_backward_ms: float = float("nan")
    torch_forward_ms: float = float("nan")
    torch_backward_ms: float = float("nan")
    rounds: int = 0
    matches_torch: bool | None = None
    target: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        return (self.layer_forward_ms + self.layer_backward_ms) / (self.torch_forward_ms + self.torch_backward_ms)


def load_layers(submission: Path, stage: Path) -> tuple[dict[str, Any], list[str]]:
    """The submission's layer classes, imported from a staged copy; and what could not be imported."""
    import importlib

    from .discover import add_provided_files, discover
    from .grade import TEMPLATE_DIR
    from .worker.runtime.assignment import component

    discover(submission, stage)
    add_provided_files(TEMPLATE_DIR, stage)
    sys.path.insert(0, str(stage))
    classes, problems = {}, []
    for graded in map(component, dict.fromkeys(shape.component for shape in SHAPES)):
        try:
            classes[graded.name] = getattr(importlib.import_module(graded.module), graded.object)
        except Exception as error:  # the student's import error is a finding, not a crash of the bench
            problems.append(f"{graded.object}: cannot import ({type(error).__name__}: {error})")
    return classes, problems


def time_pair(layer_step: Callable[[], Any], torch_step: Callable[[], Any], min_seconds: float, min_rounds: int = 5, max_rounds: int = 50) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(forward, backward) seconds of each round; the two sides alternate so that load hits both alike."""
    layer_times: list[tuple[float, float]] = []
    torch_times: list[tuple[float, float]] = []
    layer_step(), torch_step()  # warm-up: caches, lazy initialisation
    began = time.perf_counter()
    while len(layer_times) < min_rounds or (time.perf_counter() - began < min_seconds and len(layer_times) < max_rounds):
        layer_times.append(layer_step())
        torch_times.append(torch_step())
    return layer_times, torch_times


def bench_layer(shape: Shape, layer_class: Any, dtype: str, min_seconds: float) -> LayerTiming:
    import numpy as np
    import torch
    import torch.nn.functional as F

    from .judge.compare import ARRAYS

    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape.x_shape).astype(dtype)
    if shape.component == "maxpool":  # distinct values: no ties, so both sides route gradients alike
        x = (rng.permutation(x.size).reshape(shape.x_shape) / x.size).astype(dtype)
    dout = rng.standard_normal(shape.out_shape).astype(dtype)
    layer = layer_class(**shape.init)
    params: dict[str, Any] = {}
    if shape.component == "conv":
        k, c_in, c_out = shape.init["kernel_size"], shape.init["in_channels"], shape.init["out_channels"]
        params = {"weight": rng.standard_normal((c_out, c_in, k, k)).astype(dtype) * 0.1, "bias": rng.standard_normal(c_out).astype(dtype)}
        layer.weight, layer.bias = params["weight"], params["bias"]
    leaves = {name: torch.from_numpy(value).requires_grad_() for name, value in {"x": x, **params}.items()}
    grad_out = torch.from_numpy(dout)

    def torch_forward() -> Any:
        if shape.component == "conv":
            return F.conv2d(leaves["x"], leaves["weight"], leaves["bias"], stride=shape.stride, padding=shape.init["padding"])
        return F.max_pool2d(leaves["x"], shape.init["kernel_size"], shape.stride)

    def torch_step() -> tuple[float, float]:
        for leaf in leaves.values():
            leaf.grad = None
        began = time.perf_counter()
        out = torch_forward()
        middle = time.perf_counter()
        out.backward(grad_out)
        return middle - began, time.perf_counter() - middle

    results: dict[str, Any] = {}

    def layer_step() -> tuple[float, float]:
        began = time.perf_counter()
        results["out"] = layer.forward(x)
        middle = time.perf_counter()
        results["dx"] = layer.backward(dout)
        return middle - began, time.perf_counter() - middle

    layer_times, torch_times = time_pair(layer_step, torch_step, min_seconds)
    for leaf in leaves.values():
        leaf.grad = None
    out = torch_forward()
    out.backward(grad_out)
    expected = {"out": out.detach().double().numpy(), "dx": leaves["x"].grad.double().numpy()}
    matches = all(
        isinstance(results[name], np.ndarray) and results[name].shape == want.shape
        and bool(np.all(np.abs(results[name].astype(np.float64) - want) <= ARRAYS.allowed(want)))
        for name, want in expected.items()
    )
    return LayerTiming(
        repr(shape), shape.component, dtype,
        1000 * median([t[0] for t in layer_times]), 1000 * median([t[1] for t in layer_times]),
        1000 * median([t[0] for t in torch_times]), 1000 * median([t[1] for t in torch_times]),
        len(layer_times), matches, shape.targets.get(dtype),
    )


def bench_layers(submission: Path, threads: int, min_seconds: float, max_call_seconds: float) -> tuple[list[LayerTiming], list[str]]:
    """Every shape in both dtypes; a shape whose one call would take longer than ``max_call_seconds`` is skipped."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    timings: list[LayerTiming] = []
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as temporary, threadpool_limits(threads):
        classes, problems = load_layers(submission, Path(temporary))
        seconds_per_work: dict[str, float] = {}
        for shape in sorted(SHAPES, key=lambda s: (s.component, s.work)):
            if shape.component not in classes:
                continue
            estimate = seconds_per_work.get(shape.component, 0.0) * shape.work
            for dtype in ("float64", "float32"):
                if estimate > max_call_seconds:
                    timings.append(LayerTiming(repr(shape), shape.component, dtype, target=shape.targets.get(dtype),
                                               note=f"skipped: about {estimate:.0f} s per call at this speed"))
                    continue
                try:
                    timing = bench_layer(shape, classes[shape.component], dtype, min_seconds)
                except Exception as error:  # a student's layer that crashes on this shape
                    timings.append(LayerTiming(repr(shape), shape.component, dtype, note=f"error: {type(error).__name__}: {error}"[:80]))
                    continue
                timings.append(timing)
                per_work = (timing.layer_forward_ms + timing.layer_backward_ms) / 1000 / shape.work
                seconds_per_work[shape.component] = max(seconds_per_work.get(shape.component, 0.0), per_work)
    return timings, problems


def layer_table(timings: list[LayerTiming]) -> str:
    from tabulate import tabulate

    rows = []
    for t in timings:
        if t.note:
            rows.append([t.component, t.shape, t.dtype, "", "", "", t.note])
            continue
        verdict = "" if t.target is None else f"target <= {t.target:.1f}x: {'met' if t.ratio <= t.target else 'MISSED'}"
        if not t.matches_torch:
            verdict = ("DIFFERS FROM TORCH; " + verdict).strip("; ")
        rows.append([t.component, t.shape, t.dtype, f"{t.layer_forward_ms:.2f} + {t.layer_backward_ms:.2f}",
                     f"{t.torch_forward_ms:.2f} + {t.torch_backward_ms:.2f}", f"{t.ratio:.2f}x", verdict])
    return tabulate(rows, headers=["layer", "shape (N, C, H, W)", "dtype", "yours: fwd + bwd ms", "torch: fwd + bwd ms", "ratio", ""], disable_numparse=True)


# --- 2. imports, 3. workers ------------------------------------------------------------------------


def bench_imports(runs: int) -> list[tuple[str, float]]:
    """Median seconds of each import step in a fresh interpreter, python's own start-up first."""
    script = "import json, sys, time\nsteps = json.loads(sys.argv[1])\nspent = []\nfor statement in steps:\n" \
             "    began = time.perf_counter()\n    exec(statement)\n    spent.append(time.perf_counter() - began)\nprint(json.dumps(spent))"
    statements = [statement for _, statement in IMPORT_STEPS]
    startup, steps = [], []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        startup.append(time.perf_counter() - began)
        done = subprocess.run([sys.executable, "-c", script, json.dumps(statements)], capture_output=True, text=True, cwd=Path(__file__).parent.parent)
        steps.append(json.loads(done.stdout) if done.returncode == 0 else [float("nan")] * len(statements))
    return [("python start-up (python -c pass)", median(startup))] + [
        (label, median([run[i] for run in steps])) for i, (label, _) in enumerate(IMPORT_STEPS)
    ]


def bench_workers(submission: Path, runs: int) -> dict[str, float]:
    """Seconds from starting each worker, alone, to its ready message (its imports); median of ``runs``."""
    from .config import load_config
    from .grade import PROTECTED, stage_submission
    from .worker.client import Worker
    from .worker.sandbox import Sandbox

    config = load_config(None)
    sandbox = Sandbox.for_this_machine(config.limits, PROTECTED)
    spent: dict[str, list[float]] = {"part1": [], "part2": []}
    with tempfile.TemporaryDirectory(prefix="grader-bench-", ignore_cleanup_errors=True) as temporary:
        stage = Path(temporary)
        stage_submission(submission, stage, sandbox)
        try:
            for _ in range(runs):
                for part in spent:
                    worker = Worker(part, stage, sandbox, config.worker_start_seconds)
                    began = time.perf_counter()
                    worker.start()
                    problem = worker._await_ready()  # what the first call waits for, without making a call
                    spent[part].append(time.perf_counter() - began if problem is None else float("nan"))
                    worker.stop()
        finally:
            sandbox.kill_everything()
    return {part: median(values) for part, values in spent.items()}


# --- 4. grading phases -----------------------------------------------------------------------------

# What pytest's verbose output says, and when: each test's id is printed as it starts.
PROGRESS = {
    "session": re.compile(r"=+ test session starts =+"),
    "collected": re.compile(r"collected \d+ items?"),
    "test": re.compile(r"^(\S+\.py::\S+) ", re.MULTILINE),
    "summary": re.compile(r"^=* ?\d+ (?:passed|failed|errors?)\b[^\n]* in [\d.]+s", re.MULTILINE),
}


@dataclass
class Grading:
    """One timed run of ``python -m grader``."""

    wall: float
    cpu: float
    score: float
    phases: dict[str, float]
    tests: dict[str, float]


def time_grading(submission: Path, config: str | None) -> Grading:
    """Grade in a fresh process exactly as a student does, timing the progress lines as they arrive."""
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as temporary:
        results = Path(temporary) / "results.json"
        command = [sys.executable, "-u", "-m", "grader", str(submission), "--results", str(results), "--progress-per-test",
                   *(["--config", config] if config else [])]
        cpu_before = children_cpu()
        began = time.time()
        process = subprocess.Popen(command, cwd=Path(__file__).parent.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        seen: dict[tuple[str, int], tuple[float, str]] = {}  # (event, offset in the output) -> (time, detail)
        output = ""
        for chunk in iter(lambda: process.stdout.read1(65536), b""):  # type: ignore[union-attr]
            now = time.time()
            output += chunk.decode("utf-8", errors="replace")
            for event, pattern in PROGRESS.items():
                for match in pattern.finditer(output):
                    seen.setdefault((event, match.start()), (now, match.group(match.lastindex or 0)))
        process.wait()
        ended = time.time()
        cpu = children_cpu() - cpu_before
        score = json.loads(results.read_text())["score"] if results.exists() else float("nan")
    events = sorted((when, event, detail) for (event, _), (when, detail) in seen.items())
    return phases_of(events, began, ended, cpu, score)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def phases_of(events: list[tuple[float, str, str]], began: float, ended: float, cpu: float, score: float) -> Grading:
    """Start-up, collection, one phase per suite (from its first test to the next suite's), finish."""
    first = {event: when for when, event, _ in reversed(events)}
    tests = [(detail.split("/")[-1], when) for when, event, detail in events if event == "test"]
    session, collected, summary = first.get("session", ended), first.get("collected", ended), first.get("summary", ended)
    phases = {"start-up": session - began, "collection": collected - session}
    durations: dict[str, float] = {}
    for (test, start), (_, end) in zip(tests, [*tests[1:], ("", summary)]):
        durations[test] = end - start
        suite = test.split("::")[0]
        phases[suite] = phases.get(suite, 0.0) + end - start
    phases["finish"] = ended - summary
    return Grading(ended - began, cpu, score, phases, durations)


def grading_table(gradings: list[Grading]) -> str:
    from tabulate import tabulate

    labels = {
        "start-up": "start-up: python, the judge's imports, staging, starting both workers",
        "collection": "collection: the judge imports the suites, torch and its oracle",
        "finish": "finish: report, workers stopped, results.json written, exit",
    }
    total = median([g.wall for g in gradings])
    rows = []
    for phase in gradings[0].phases:
        seconds = median([g.phases.get(phase, 0.0) for g in gradings])
        count = sum(1 for test in gradings[0].tests if test.split("::")[0] == phase)
        rows.append([labels.get(phase, f"{phase} ({count} tests)"), f"{seconds:.2f}", f"{seconds / total:.0%}"])
    rows.append(["total, wall", f"{total:.2f}", ""])
    rows.append(["CPU time of the judge and its workers (user + sys)", f"{median([g.cpu for g in gradings]):.2f}", ""])
    return tabulate(rows, headers=["phase", "seconds", "share"], disable_numparse=True)


def slowest_tests(gradings: list[Grading], count: int = 6) -> str:
    from tabulate import tabulate

    seconds = {test: median([g.tests.get(test, 0.0) for g in gradings]) for test in gradings[0].tests}
    rows = [[test, f"{value:.2f}"] for test, value in sorted(seconds.items(), key=lambda item: -item[1])[:count]]
    return tabulate(rows, headers=["slowest tests (with first-use imports and waits for a worker)", "seconds"], disable_numparse=True)


# --- the command -----------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    from .grade import PROJECT_DIR

    p = argparse.ArgumentParser(prog="python -m grader bench", description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("submission", nargs="?", default=str(PROJECT_DIR / "reference"), help="folder or .zip (default: reference)")
    p.add_argument("--runs", type=int, default=3, help="timed gradings and import runs; medians are reported (default 3)")
    p.add_argument("--threads", type=int, default=1, help="torch and BLAS threads for the layer timings (default 1, as in the workers)")
    p.add_argument("--min-seconds", type=float, default=0.5, help="time each layer pair at least this long (default 0.5)")
    p.add_argument("--max-call-seconds", type=float, default=3.0, help="skip a shape whose one call would take longer (default 3)")
    p.add_argument("--skip", default="", help="comma-separated sections to leave out: layers, imports, workers, grading")
    p.add_argument("--config", default=None, help="grading policy file for the timed gradings")
    p.add_argument("--json", default=None, help="also write every figure to this file")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    submission = Path(args.submission).resolve()
    skip = {name.strip() for name in args.skip.split(",") if name.strip()}
    record: dict[str, Any] = {"submission": str(submission), "machine": machine_line(), "threads": args.threads}
    print(f"grader bench: {submission}\nmachine: {record['machine']}\n", flush=True)
    if "layers" not in skip:
        timings, problems = bench_layers(submission, args.threads, args.min_seconds, args.max_call_seconds)
        print(f"1. Layers against torch {torch_version()} on the CPU, {args.threads} thread(s); medians of forward and backward "
              f"(yours / torch: below 1 is faster than torch)", *problems, layer_table(timings), "", sep="\n", flush=True)
        record["layers"] = [asdict(t) | {"ratio": t.ratio if not t.note else None} for t in timings]
    if "imports" not in skip:
        imports = bench_imports(args.runs)
        print(f"2. Import costs in a fresh interpreter, in the judge's order (median of {args.runs})",
              *[f"  {seconds:6.2f} s  {label}" for label, seconds in imports], "", sep="\n", flush=True)
        record["imports"] = dict(imports)
    if "workers" not in skip:
        workers = bench_workers(submission, args.runs)
        print("3. Worker start-up, each alone (overlaps the judge's own start-up when grading)",
              *[f"  {seconds:6.2f} s  {part}" for part, seconds in workers.items()], "", sep="\n", flush=True)
        record["workers"] = workers
    if "grading" not in skip:
        gradings = [time_grading(submission, args.config) for _ in range(args.runs)]
        scores = sorted({g.score for g in gradings})
        print(f"4. Grading {submission.name} as a student runs it (python -m grader), median of {args.runs} runs; "
              f"score {' / '.join(f'{s:g}' for s in scores)}",
              grading_table(gradings), "", slowest_tests(gradings), sep="\n", flush=True)
        record["gradings"] = [asdict(g) for g in gradings]
    print(f"\nload average (1/5/15 min) at the end: {load_average()}")
    if args.json:
        Path(args.json).write_text(json.dumps(record, indent=1, default=str))
    return 0


def torch_version() -> str:
    import torch

    return str(torch.__version__)
