"""What a failing test leaves for the HTML report's figure: small arrays and call logs, never scored.

The comparisons in ``compare`` and the student fixture ``keep`` evidence while
a test runs; the plugin ``take``s it into the test's outcome when the test
fails and drops it otherwise. Arrays are cut to the 2-D slice that holds the
worst element and cropped around it, so an outcome stays a few kilobytes.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..calibration import Band

CROP = 24  # the largest side of a slice kept for a heatmap
MAX_EVENTS = 48  # of a loop's call log: a loop gone wild still makes a readable timeline
_pending: list[dict[str, Any]] = []


def keep(build: Callable[..., dict[str, Any] | None], *args: Any) -> None:
    """Attach ``build(*args)``; evidence only illustrates a message, so a failure to build it is ignored, never a test's outcome."""
    try:
        item = build(*args)
    except Exception:
        return
    if item is not None:
        _pending.append(item)


def take() -> list[dict[str, Any]]:
    """The evidence attached since the last call, and forget it."""
    items = list(_pending)
    _pending.clear()
    return items


def window(worst: int, length: int) -> slice:
    """``CROP`` indices around ``worst`` (all of them when the axis is short enough)."""
    start = min(max(worst - CROP // 2, 0), max(length - CROP, 0))
    return slice(start, min(start + CROP, length))


def axis_label(axis: int, axes: Sequence[str]) -> str:
    return axes[axis] if axis < len(axes) else f"axis {axis}"


def array_slice(array: np.ndarray, worst: tuple[int, ...]) -> tuple[tuple[Any, ...], str]:
    """The index of the 2-D plane (the last two axes) that holds ``worst``, cropped around it, and how it reads, e.g. "[0, 2, 3:27, :]"."""
    if array.ndim < 2:
        index: tuple[Any, ...] = (window(worst[0] if worst else 0, array.size),) if array.ndim else ()
    else:
        index = (*worst[:-2], window(worst[-2], array.shape[-2]), window(worst[-1], array.shape[-1]))
    text = ", ".join(str(i) if isinstance(i, int) else (":" if (i.start, i.stop) == (0, n) else f"{i.start}:{i.stop}")
                     for i, n in zip(index, array.shape))
    return index, f"[{text}]"


def plane(array: np.ndarray, index: tuple[Any, ...]) -> list[list[float]]:
    return np.atleast_2d(np.asarray(array, dtype=np.float64)[index]).astype(np.float32).tolist()


def array_difference(quantity: str, actual: np.ndarray, expected: np.ndarray, worst: tuple[int, ...], allowed: float,
                     against: str, axes: Sequence[str], pattern: Sequence[str]) -> dict[str, Any]:
    """Heatmaps' data: expected and actual on the worst element's plane, where it is in that plane, the tolerance there."""
    index, where = array_slice(expected, worst)
    offset = [i.start for i in index if isinstance(i, slice)]
    in_plane = [w - o for w, o in zip(worst[len(worst) - len(offset):], offset)]
    return {
        "kind": "array", "quantity": quantity, "against": against, "slice": where, "shape": list(expected.shape),
        "expected": plane(expected, index), "actual": plane(actual, index), "worst": ([0] * (2 - len(in_plane))) + in_plane,
        "tolerance": float(allowed), "axes": [axis_label(a, axes) for a in range(expected.ndim)][-2:],
        "pattern": [line.strip() for line in pattern],
    }


def wrong_shape(quantity: str, actual: Sequence[int], expected: Sequence[int]) -> dict[str, Any]:
    return {"kind": "shape", "quantity": quantity, "actual": [int(n) for n in actual], "expected": [int(n) for n in expected]}


def loop_timeline(function: str, result: dict[str, Any], batches: int) -> dict[str, Any]:
    """The calls of the student's loop in order, each forward with the model's mode, and the contract's for ``batches`` batches."""
    modes = iter(result.get("calls", []))
    if function == "train_epoch":
        yours = [step(event, next(modes, {}) if event.get("event") == "forward" else {}) for event in result.get("events", [])]
        contract = ("zero_grad", "forward", "backward", "step")
        expected = [{"event": e, "training": True, "grad_enabled": True} if e == "forward" else {"event": e} for _ in range(batches) for e in contract]
    else:
        yours = [step({"event": "forward"}, call) for call in result.get("calls", [])]
        yours += [{"event": "backward"} for _ in result.get("grads_created", [])[:1]]
        expected = [{"event": "forward", "training": False, "grad_enabled": False} for _ in range(batches)]
    return {"kind": "timeline", "function": function, "expected": expected, "actual": yours[:MAX_EVENTS]}


def step(event: dict[str, Any], call: dict[str, Any]) -> dict[str, Any]:
    return {"event": str(event.get("event")), **{k: bool(call[k]) for k in ("training", "grad_enabled") if k in call}}


def learning_curve(recipe: str, result: dict[str, Any], threshold: float, band: Band | None = None) -> dict[str, Any]:
    """Training loss and accuracy per epoch, the validation accuracy the test requires, and the reference's band when calibrated."""
    history = result.get("history", [])
    item = {"kind": "curve", "recipe": recipe, "loss": [float(h[0]) for h in history], "accuracy": [float(h[1]) for h in history],
            "threshold": float(threshold)}
    return item | ({"reference": band.as_dict()} if band else {})


TRAINING_SCENARIOS = {"scratch.train": "scratch_cnn", "e2e.train": "end_to_end"}  # model.train: the recipe is the component's


def from_scenario(scenario: str, args: dict[str, Any], result: Any, thresholds: dict[str, float],
                  bands: Mapping[str, Band] | None = None) -> dict[str, Any] | None:
    """The figure data a scenario's result gives, if any: the loops' call logs, the training runs' curves (with ``bands``, the reference's)."""
    if not isinstance(result, dict):
        return None
    if scenario in ("loop.train_epoch", "loop.validate"):
        batches = -(-len(args["x"]) // int(args["batch_size"]))
        return loop_timeline(scenario.split(".")[1], result, batches)
    recipe = TRAINING_SCENARIOS.get(scenario, args.get("component") if scenario == "model.train" else None)
    if recipe in thresholds:
        return learning_curve(str(recipe), result, thresholds[str(recipe)], (bands or {}).get(str(recipe)))
    return None
