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
    if scenario in LOOPS:
        return argmax_over_batch(args, message)
    if scenario.startswith(("model.", "e2e.")):
        return fixed_input_channels(message)
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
    """An index past an axis of the output's other side: H_out and W_out swapped in an allocation or a loop."""
    found = OUT_OF_BOUNDS.search(message)
    if not found or case.component not in ("conv", "maxpool"):
        return ""
    _, axis, size = (int(n) for n in found.groups())
    h_out, w_out = case.out_shape[2:]
    if h_out == w_out or axis not in (2, 3) or size != (w_out if axis == 2 else h_out):
        return ""
    return (f"axis {axis} of an array has size {size}, the output's {'W_out' if axis == 2 else 'H_out'}: "
            f"the output is (N, C, H_out, W_out) = {case.out_shape}; rows run over H_out = {h_out}, columns over W_out = {w_out}")


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


def fixed_input_channels(message: str) -> str:
    """A convolution built for another number of input channels than the images have."""
    found = CHANNELS.search(message)
    if not found:
        return ""
    built, given = found.groups()
    return f"your nn.Conv2d expects {built} input channels but the images have {given}: build it with in_channels, not a fixed number"


LAYER_RULES: tuple[Callable[[LayerCase, str], str], ...] = (swapped_output_sides, leftover_edge, unflattened_input)
