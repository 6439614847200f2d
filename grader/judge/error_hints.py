"""The likely cause of an exception raised in the student's code, read from the message and the call's inputs.

A hint is given only when the exception's numbers match the inputs in a way that
points at one mistake (e.g. a tensor of one value per class compared with one of
one value per sample); otherwise there is none, and the message shows the
exception and the student's lines alone.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .cases import LayerCase

SIZE_MISMATCH = re.compile(r"size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\)")
OUT_OF_BOUNDS = re.compile(r"index (\d+) is out of bounds for axis (\d+) with size (\d+)")
RESHAPE = re.compile(r"cannot reshape array of size (\d+) into shape \(([\d, ]*)\)")
CHANNELS = re.compile(r"expected input\[[\d, ]+\] to have (\d+) channels, but got (\d+) channels")
SHAPE_MISMATCH = re.compile(r"shape-mismatch|could not be broadcast|could not broadcast")
BROADCAST_SHAPES = re.compile(r"broadcast together with shapes \(([\d,]*)\) \(([\d,]*)\)")
MATMUL_SIZES = re.compile(r"size (\d+) is different from (\d+)|shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)")
NO_GRAPH = "does not require grad and does not have a grad_fn"  # backward() on a tensor computed without autograd
LOOPS = ("loop.train_epoch", "loop.validate", "e2e.train")


def hint_for(scenario: str, args: dict[str, Any], error: dict[str, Any]) -> str:
    """A hint naming the likely cause of ``error`` (the worker's ``{type, message}``), or "".

    A hint only refines a message: if reading the inputs fails, there is none.
    """
    try:
        return _hint(scenario, args, str(error.get("message", "")))
    except Exception:
        return ""


def _hint(scenario: str, args: dict[str, Any], message: str) -> str:
    if scenario.startswith("layer.") and isinstance(args.get("x"), np.ndarray):
        case = LayerCase("", args["component"], tuple(args["x"].shape), args.get("init") or {})
        return next((hint for rule in LAYER_RULES if (hint := rule(case, message))), "")
    if scenario == "loop.validate" and NO_GRAPH in message:
        return "validate must not call loss.backward(): under torch.no_grad() no graph is recorded, and nothing is trained here"
    if scenario in LOOPS:
        return argmax_over_batch(args, message)
    if scenario.startswith(("model.", "e2e.")):
        return fixed_input_channels(message)
    if scenario == "sgd.steps":
        return shared_velocity(args, message)
    return ""


def argmax_over_batch(args: dict[str, Any], message: str) -> str:
    """One value per class compared with one per sample: the predictions were taken over the wrong axis."""
    found = SIZE_MISMATCH.search(message)
    classes = args["shape"][2] if "shape" in args else (args.get("init") or {}).get("num_classes")
    batch = args.get("batch_size") or (args.get("training") or {}).get("batch_size")
    if not found or not classes or not batch:
        return ""
    samples = len(args.get("x", ()))
    batches = {int(batch), samples % int(batch) or int(batch)}
    a, b = (int(n) for n in found.groups())
    if {a, b} & {classes} and {a, b} & batches and a != b:
        return (f"a tensor of {classes} values (one per class) met one of a batch's size: "
                "take each sample's prediction over the class dimension, outputs.argmax(dim=1)")
    return ""


def swapped_output_sides(case: LayerCase, message: str) -> str:
    """An index past an axis of the output's other side, or windows of the wrong size where H_out != W_out: the two swapped."""
    if case.component not in ("conv", "maxpool"):
        return ""
    h_out, w_out = case.out_shape[2:]
    sides = f"rows run over H_out = {h_out}, columns over W_out = {w_out}"
    found = OUT_OF_BOUNDS.search(message)
    if found:
        _, axis, size = (int(n) for n in found.groups())
        if h_out != w_out and axis in (2, 3) and size == (w_out if axis == 2 else h_out):
            return f"axis {axis} of an array has size {size} = {'W_out' if axis == 2 else 'H_out'}; the output is (N, C, H_out, W_out) = {case.out_shape}: {sides}"
    if h_out != w_out and SHAPE_MISMATCH.search(message):
        return f"a window of the wrong size where the output is not square: {sides}; a loop bounded by the other side takes windows past the input's edge"
    return ""


def step_of_kernel_size(case: LayerCase, message: str) -> str:
    """An index past the input's edge that windows starting every kernel_size pixels reach, where they start every stride."""
    found = OUT_OF_BOUNDS.search(message)
    k, stride = case.init.get("kernel_size"), case.init.get("stride") or case.init.get("kernel_size")
    if not found or case.component not in ("conv", "maxpool") or stride == k:
        return ""
    index, axis, size = (int(n) for n in found.groups())
    padded = [side + 2 * case.init.get("padding", 0) for side in case.x_shape[2:]]
    outs = case.out_shape[2:]
    if axis not in (2, 3) or size not in (case.x_shape[axis], padded[axis - 2]) or not size <= index < outs[axis - 2] * k:
        return ""
    return f"index {index} is past the input's edge ({size}) but within windows placed every kernel_size = {k}: window h starts at h * stride (stride = {stride})"


def leftover_edge(case: LayerCase, message: str) -> str:
    """The whole input reshaped into windows that cover only part of it."""
    found = RESHAPE.search(message)
    if not found or case.component != "maxpool" or int(found.group(1)) != int(np.prod(case.x_shape)):
        return ""
    k = case.init["kernel_size"]
    h, w = case.x_shape[2:]
    h_out, w_out = case.out_shape[2:]
    if h_out * k == h and w_out * k == w:
        return ""
    return (f"x is {h}x{w} but the windows cover {h_out * k}x{w_out * k}: drop the leftover rows and columns first, "
            "x[:, :, :H_out * kernel_size, :W_out * kernel_size], then reshape")


def unflattened_input(case: LayerCase, message: str) -> str:
    """Linear raised on an input with more than two axes, and only such inputs need flattening."""
    if case.component != "linear" or len(case.x_shape) <= 2:
        return ""
    return (f"this x has shape {case.x_shape}: flatten each sample to in_features = {case.init['in_features']} "
            "values first, x.reshape(len(x), -1), and reshape dx back to x's shape")


def untransposed_weight(case: LayerCase, message: str) -> str:
    """A matrix product whose inner sizes are out_features and in_features: the weight used as (in, out)."""
    found = MATMUL_SIZES.search(message)
    sizes = {int(n) for n in found.groups() if n} if found else set()
    i, o = case.init.get("in_features"), case.init.get("out_features")
    if case.component != "linear" or i == o or not {i, o} <= sizes:
        return ""
    return f"weight has shape (out_features, in_features) = ({o}, {i}): multiply by its transpose, x @ weight.T"


def shared_velocity(args: dict[str, Any], message: str) -> str:
    """Two different layers' parameter shapes in one operation: one velocity shared between parameters."""
    found = BROADCAST_SHAPES.search(message)
    shapes = {tuple(spec[name].shape) for spec in args.get("layers", []) if spec for name in ("weight", "bias")}
    if not found:
        return ""
    met = {tuple(int(n) for n in group.split(",") if n) for group in found.groups()}
    if len(met) != 2 or not met <= shapes:
        return ""
    return ("a parameter met another parameter's velocity: keep one velocity per parameter of each layer "
            "(a list made with [{}] * n, or one dict keyed by name for all layers, shares it)")


def fixed_input_channels(message: str) -> str:
    """A convolution built for another number of input channels than the images have."""
    found = CHANNELS.search(message)
    if not found:
        return ""
    built, given = found.groups()
    return f"your nn.Conv2d expects {built} input channels but the images have {given}: build it with in_channels, not a fixed number"


LAYER_RULES: tuple[Callable[[LayerCase, str], str], ...] = (swapped_output_sides, step_of_kernel_size, leftover_edge, untransposed_weight, unflattened_input)
