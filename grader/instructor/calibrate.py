"""``python -m grader calibrate [--seeds 20] [--dataset NAME] [--config PATH]``: thresholds from data.

Trains a correct solution (``reference/`` by default) with exactly the recipes
of the accuracy tests, through the same scenario functions the worker runs, once
per seed (the seed picks the data subsample, the initial weights and the batch
order), and prints per accuracy test the distribution of validation accuracy,
the configured threshold, its margin below the worst seed, and a suggested
threshold. It also writes each recipe's per-epoch range of training loss and
accuracy over the seeds to ``calibration.json`` next to the config (see
``grader.calibration``), which the HTML report draws as the reference's band.
Run it whenever the dataset, a recipe or a threshold changes.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import math
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tabulate import tabulate

from ..calibration import band_of, write_bands
from ..config import ConfigError, GraderConfig, load_config
from ..data import DATASETS
from ..grade import PROJECT_DIR

RECIPES = ("scratch_cnn", "twolayer", "vanilla_cnn", "end_to_end")
MIN_SLACK = 0.05  # a suggested threshold sits at least this far below the worst seed
STEP = 0.05  # and is rounded down to a multiple of this
THIN_MARGIN = 0.03  # a configured threshold closer than this to the worst seed is flagged


@dataclass(frozen=True)
class Run:
    """One recipe trained with one seed: held-out accuracy, and training [loss, accuracy] per epoch."""

    accuracy: float
    history: list[list[float]]


def load_solution(solution: Path) -> tuple[Any, Any]:
    """The worker's Part 1 and Part 2 scenario modules, importing the solution's packages from ``solution``."""
    sys.path.insert(0, str(solution))
    part1 = importlib.import_module("grader.worker.runtime.part1")
    part2 = importlib.import_module("grader.worker.runtime.part2")
    return part1, part2


def recipe_arguments(config: GraderConfig, recipe_name: str) -> dict[str, Any]:
    recipe = config.training[recipe_name]
    return {k: recipe[k] for k in ("epochs", "batch_size", "lr", "momentum")} | {"seed": config.seed}


def scratch_accuracy(config: GraderConfig, part1: Any) -> Run:
    """test_scratch_training: the solution's NumPy layers and SGD under the grader's loop."""
    from ..judge import training

    recipe = config.training["scratch_cnn"]
    split = training.dataset_split(config)
    x, y = split.x_train[: recipe["max_train"]].astype("float64"), split.y_train[: recipe["max_train"]]
    channels, side = recipe["channels"], x.shape[-1] // 2
    weights = training.scratch_initial_weights(x.shape[1], channels, channels * side * side, int(split.y_train.max()) + 1, config.seed)
    architecture = {"channels": channels, "kernel_size": 3, "padding": 1, "pool": 2}
    result = part1.scratch_train(x=x, y=y, weights=weights, architecture=architecture, training=recipe_arguments(config, "scratch_cnn"))
    return Run(training.accuracy(training.scratch_logits({name: result[name] for name in weights}, split.x_val), split.y_val), result["history"])


def model_accuracy(config: GraderConfig, part2: Any, component: str, train: Callable[..., dict[str, Any]], recipe_name: str) -> Run:
    """model_checks.trained_accuracy: the solution's model, trained by the grader's loop or the solution's."""
    from ..judge import training

    split = training.dataset_split(config, config.dataset_options.get("image_size") if component == "vanilla_cnn" else None)
    init = training.model_init(component, config, split)
    result = train(component=component, init=init, layers=training.initial_layers(component, init, config.seed),
                   x=split.x_train, y=split.y_train, training=recipe_arguments(config, recipe_name))
    return Run(training.model_accuracy(component, init, result["layers"], split.x_val, split.y_val), result["history"])


def accuracies(config: GraderConfig, solution: Path, recipes: tuple[str, ...]) -> dict[str, Run]:
    """Validation accuracy and training curves of each recipe for ``config.seed``."""
    part1, part2 = load_solution(solution)
    runs = {
        "scratch_cnn": lambda: scratch_accuracy(config, part1),
        "twolayer": lambda: model_accuracy(config, part2, "twolayer", part2.train_model, "twolayer"),
        "vanilla_cnn": lambda: model_accuracy(config, part2, "vanilla_cnn", part2.train_model, "vanilla_cnn"),
        "end_to_end": lambda: model_accuracy(config, part2, "vanilla_cnn", part2.train_end_to_end, "end_to_end"),
    }
    return {recipe: runs[recipe]() for recipe in recipes}


def suggested_threshold(values: list[float]) -> float:
    """At least ``MIN_SLACK`` (or 3 standard deviations) below the worst seed, rounded down to ``STEP``."""
    slack = max(MIN_SLACK, 3 * float(np.std(values)))
    return max(0.0, math.floor(round((min(values) - slack) / STEP, 6)) * STEP)


def report(config: GraderConfig, results: list[dict[str, float]], recipes: tuple[str, ...]) -> str:
    """The distribution of validation accuracy per recipe, with ``results`` one dict of accuracies per seed."""
    rows, flagged = [], []
    for recipe in recipes:
        values = [result[recipe] for result in results]
        threshold = config.thresholds[recipe]
        margin = min(values) - threshold
        if margin < THIN_MARGIN:
            flagged.append(recipe)
        rows.append([recipe, f"{threshold:.2f}", f"{min(values):.3f}", f"{float(np.median(values)):.3f}", f"{max(values):.3f}",
                     f"{float(np.std(values)):.3f}", f"{margin:+.3f}", f"{suggested_threshold(values):.2f}"])
    table: str = tabulate(rows, headers=["accuracy test", "threshold", "min", "median", "max", "std", "margin (min - threshold)", "suggested"], disable_numparse=True)
    notes = [f"suggested = the worst seed minus max({MIN_SLACK}, 3 std), rounded down to {STEP}."]
    if flagged:
        notes.append(f"THIN MARGIN (< {THIN_MARGIN}): {', '.join(flagged)}; a correct submission may fail there. Lower the threshold(s) in [datasets.{config.dataset}].")
    else:
        notes.append(f"Every configured threshold is at least {THIN_MARGIN} below the worst seed.")
    return table + "\n" + "\n".join(notes)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader calibrate", description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds (0 .. N-1) to train with (default: 20)")
    parser.add_argument("--config", default=None, help="grading policy file (default: $GRADER_CONFIG or grader/config.toml)")
    parser.add_argument("--dataset", choices=DATASETS, default=None, help="calibrate for this dataset instead of the config's")
    parser.add_argument("--solution", default=str(PROJECT_DIR / "reference"), help="a correct solution (default: reference/)")
    parser.add_argument("--tests", default=",".join(RECIPES), help=f"accuracy tests to calibrate (default: {','.join(RECIPES)})")
    parser.add_argument("--jobs", type=int, default=1, help="seeds trained at once, one process each (default: 1)")
    parser.add_argument("--per-seed", action="store_true", help="also print every seed's accuracies")
    parser.add_argument("--no-bands", action="store_true", help="do not write the reference's learning-curve bands next to the config (calibration.json)")
    args = parser.parse_args(argv)
    recipes = tuple(name.strip() for name in args.tests.split(",") if name.strip())
    try:
        config = load_config(args.config, dataset=args.dataset)
        unknown = [recipe for recipe in recipes if recipe not in RECIPES]
        if unknown:
            raise ConfigError(f"unknown accuracy tests {unknown}; choose among {', '.join(RECIPES)}")
    except ConfigError as error:
        print(f"calibrate: {error}")
        return 1
    solution = Path(args.solution).resolve()
    configs = [dataclasses.replace(config, seed=seed) for seed in range(args.seeds)]
    print(f"Training {solution} on {config.dataset} (root {config.data_root}) with {len(recipes)} recipes x {args.seeds} seeds...", flush=True)
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        runs = list(pool.map(accuracies, configs, [solution] * len(configs), [recipes] * len(configs)))
    results = [{recipe: run.accuracy for recipe, run in seed_runs.items()} for seed_runs in runs]
    if not args.no_bands:
        written = write_bands(config, {recipe: band_of([seed_runs[recipe].history for seed_runs in runs]) for recipe in recipes})
        print(f"Wrote the reference's per-epoch loss and accuracy range of {args.seeds} seeds to {written}")
    if args.per_seed:
        print(tabulate([[seed, *(f"{r[recipe]:.3f}" for recipe in recipes)] for seed, r in enumerate(results)], headers=["seed", *recipes], disable_numparse=True))
    print(f"\n{config.dataset}, {args.seeds} seeds, {time.monotonic() - started:.0f} s\n" + report(config, results, recipes))
    return 0
