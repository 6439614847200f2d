"""One matplotlib figure per kind of failure, as a base64 PNG for an HTML page.

Imported only when a report is drawn (matplotlib costs about half a second),
after the scores are final and every worker is gone.
"""
from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

DPI = 72
EVENT_COLOURS = {"zero_grad": "#7f8c8d", "forward": "#2e86de", "backward": "#e67e22", "step": "#27ae60"}
WORST = {"marker": "s", "s": 120, "facecolors": "none", "edgecolors": "#d00000", "linewidths": 2}


def png(figure: Any) -> str:
    """The figure as a base64 PNG, and the figure freed."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def array_figure(item: dict[str, Any]) -> Any:
    """Expected, yours and the difference on one plane, one colour scale for the first two, the worst element boxed.

    Axes are placed by hand: a layout engine triples the drawing time.
    """
    expected, actual = np.asarray(item["expected"]), np.asarray(item["actual"])
    difference = actual - expected
    limit = float(max(np.abs(expected).max(), np.abs(actual).max()) or 1.0)
    spread = float(np.abs(difference).max() or 1.0)
    figure = plt.figure(figsize=(10, 2.2 if expected.shape[0] == 1 else 3.4))
    panels = [(f"expected ({item['against']})", expected, "viridis", limit), ("yours", actual, "viridis", limit),
              ("yours - expected", difference, "RdBu_r", spread)]
    row, column = item["worst"]
    for index, (title, values, colours, high) in enumerate(panels):
        axis = figure.add_axes((0.04 + 0.32 * index, 0.14, 0.23, 0.62))
        image = axis.imshow(values, cmap=colours, vmin=-high, vmax=high, aspect="auto" if values.shape[0] == 1 else "equal", interpolation="nearest")
        axis.scatter([column], [row], **WORST)
        axis.set_title(title, fontsize=10)
        axis.set_xlabel(item["axes"][-1] if item["axes"] else "")
        axis.set_ylabel(item["axes"][0] if len(item["axes"]) == 2 else "")
        if values.shape[0] == 1:
            axis.set_yticks([])  # a 1-D array drawn as one row
        if index:  # the first two share a scale: one bar for both, one for the difference
            figure.colorbar(image, cax=figure.add_axes((0.28 + 0.32 * index, 0.14, 0.012, 0.62)), ticks=[-high, 0, high], format="%.3g")
    figure.suptitle(f"{item['quantity']}{item['slice']}: the worst element is boxed; tolerance there {item['tolerance']:.2g}", fontsize=10)
    if item["pattern"]:  # what the message already says the wrong values have in common
        figure.text(0.5, 0.88, " ".join(item["pattern"]), ha="center", fontsize=9, color="#a00000")
    return figure


def shape_figure(item: dict[str, Any]) -> Any:
    """Expected and actual shape as rows of boxes, one per axis; the axes that differ in red."""
    expected, actual = item["expected"], item["actual"]
    width = max(len(expected), len(actual), 1)
    figure, axis = plt.subplots(figsize=(1.4 * width + 2, 1.6))
    for y, (label, shape, other) in enumerate([("yours", actual, expected), ("expected", expected, actual)]):
        axis.text(-0.2, y + 0.4, label, ha="right", va="center", fontsize=10)
        for x, size in enumerate(shape):
            differs = x >= len(other) or other[x] != size
            axis.add_patch(Rectangle((x, y), 0.9, 0.8, facecolor="#f5b7b1" if differs else "#d5f5e3", edgecolor="#c0392b" if differs else "#1e8449"))
            axis.text(x + 0.45, y + 0.4, str(size), ha="center", va="center", fontsize=11)
    axis.set_xlim(-1.6, width)
    axis.set_ylim(-0.1, 1.9)
    axis.axis("off")
    axis.set_title(f"shape of {item['quantity']}: the axes that differ are red", fontsize=10)
    return figure


def mode_text(event: dict[str, Any]) -> str:
    parts = [] if "training" not in event else ["train" if event["training"] else "eval"]
    parts += [] if "grad_enabled" not in event else ["grad" if event["grad_enabled"] else "no grad"]
    return "\n".join(parts)


def timeline_figure(item: dict[str, Any]) -> Any:
    """The calls of the loop in order, expected above yours; a forward call opens a batch and shows the model's mode."""
    rows = [("expected", item["expected"]), ("yours", item["actual"])]
    length = max(len(item["expected"]), len(item["actual"]), 1)
    figure, axis = plt.subplots(figsize=(min(0.75 * length + 1.5, 14), 2.2))
    for y, (label, events) in zip((1, 0), rows):
        axis.text(-0.3, y + 0.4, label, ha="right", va="center", fontsize=10)
        for x, event in enumerate(events):
            name = event["event"]
            axis.add_patch(Rectangle((x, y), 0.92, 0.8, facecolor=EVENT_COLOURS.get(name, "#bbbbbb"), edgecolor="white"))
            axis.text(x + 0.46, y + 0.4, f"{name}\n{mode_text(event)}".strip(), ha="center", va="center", fontsize=7, color="white")
            if name == "forward":
                axis.plot([x - 0.04, x - 0.04], [y - 0.05, y + 0.85], color="black", linewidth=1.5)
    axis.set_xlim(-2.2, length)
    axis.set_ylim(-0.1, 1.9)
    axis.axis("off")
    axis.set_title(f"{item['function']}: calls in order (each batch begins at a black bar)", fontsize=10)
    return figure


def curve_figure(item: dict[str, Any]) -> Any:
    """Training loss and accuracy per epoch, the required validation accuracy, the measured one when there is one,
    and the reference's range over the calibration seeds when ``calibrate`` recorded it."""
    epochs = np.arange(1, len(item["loss"]) + 1)
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(9, 3.8))
    figure.subplots_adjust(bottom=0.4, wspace=0.25)
    reference = item.get("reference")
    if reference:  # drawn first, beneath this submission's curves
        for axis, quantity in ((loss_axis, "loss"), (accuracy_axis, "accuracy")):
            low, high = np.asarray(reference[quantity], dtype=float).T
            axis.fill_between(np.arange(1, len(low) + 1), low, high, color="#95a5a6", alpha=0.35,
                              label=f"reference's training {quantity}, {reference['seeds']} seeds (min to max)")
    loss_axis.plot(epochs, item["loss"], marker="o", label="yours")
    loss_axis.set_title("training loss per epoch", fontsize=10)
    accuracy_axis.plot(epochs, item["accuracy"], marker="o", label="your training accuracy")
    accuracy_axis.axhline(item["threshold"], color="#c0392b", linestyle="--", label=f"required validation accuracy {item['threshold']:.0%}")
    if "validation" in item:
        accuracy_axis.scatter([epochs[-1] if len(epochs) else 1], [item["validation"]], color="black", zorder=3,
                              label=f"your validation accuracy {item['validation']:.1%}")
    accuracy_axis.set_ylim(0, 1)
    accuracy_axis.set_title("accuracy", fontsize=10)
    for axis in (loss_axis, accuracy_axis):  # legends below the axes: inside they can hide a flat curve
        axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False)
        axis.set_xlabel("epoch")
        axis.set_xticks(epochs)
    return figure


DRAW: dict[str, Callable[[dict[str, Any]], Any]] = {"array": array_figure, "shape": shape_figure, "timeline": timeline_figure, "curve": curve_figure}


def draw(item: dict[str, Any]) -> str:
    """The evidence ``item`` as a base64 PNG."""
    return png(DRAW[item["kind"]](item))


def histogram(values: list[float], maximum: float) -> str:
    """The distribution of totals, for the class overview."""
    figure, axis = plt.subplots(figsize=(7, 2.6))
    figure.subplots_adjust(bottom=0.2)
    axis.hist(values, bins=np.linspace(0, maximum or 1, 21), color="#2e86de", edgecolor="white")
    axis.set_xlabel("total points")
    axis.set_ylabel("submissions")
    axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    return png(figure)
