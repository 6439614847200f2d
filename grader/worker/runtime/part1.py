"""Part 1 scenarios: the NumPy layers and SGD, called exactly as the contract says."""
from __future__ import annotations

from typing import Any

import numpy as np

from .scenarios import plain_array, registrar, student_object

scenario = registrar(part=1)  # every scenario here runs in the Part 1 worker (NumPy only)


def build_layer(component: str, init: dict[str, Any], params: dict[str, np.ndarray] | None) -> Any:
    layer = student_object(component)(**init)
    for name, value in (params or {}).items():
        setattr(layer, name, value.copy())
    return layer


@scenario("layer.forward")
def forward(component: str, init: dict[str, Any], params: dict[str, np.ndarray] | None, x: np.ndarray) -> dict[str, Any]:
    layer = build_layer(component, init, params)
    return {"out": plain_array(layer.forward(x.copy()), "forward")}


def parameter_changes(layer: Any, assigned: dict[str, np.ndarray], original: dict[str, np.ndarray], step: str) -> list[str]:
    """How ``step`` changed the layer's parameters: another object in the attribute, or other values in the array."""
    found = []
    for name, array in assigned.items():
        if getattr(layer, name, None) is not array:
            found.append(f"{step} replaced self.{name} with another object")
        elif not np.array_equal(array, original[name]):
            found.append(f"{step} changed the values of self.{name} in place")
    return found


@scenario("layer.backward")
def backward(
    component: str, init: dict[str, Any], params: dict[str, np.ndarray] | None, x: np.ndarray, dout: np.ndarray
) -> dict[str, Any]:
    layer = build_layer(component, init, params)
    result = {"out": plain_array(layer.forward(x.copy()), "forward")}
    result["dx"] = plain_array(layer.backward(dout.copy()), "backward")
    if params:
        result["dw"] = plain_array(getattr(layer, "dw", None), "backward (the attribute dw)")
        result["db"] = plain_array(getattr(layer, "db", None), "backward (the attribute db)")
    return result


@scenario("layer.parameters_kept")
def parameters_kept(component: str, init: dict[str, Any], params: dict[str, np.ndarray], x: np.ndarray, dout: np.ndarray) -> dict[str, Any]:
    """How forward, then backward, changed weight and bias.

    A forward or backward that raises fails this test too: nothing was checked,
    and a stub must not earn these points.
    """
    layer = build_layer(component, init, params)
    assigned = {name: getattr(layer, name) for name in params}
    layer.forward(x.copy())
    changes = parameter_changes(layer, assigned, params, "forward")
    layer.backward(dout.copy())
    return {"changes": changes + parameter_changes(layer, assigned, params, "backward")}


@scenario("layer.perturbed_outputs")
def perturbed_outputs(
    component: str,
    init: dict[str, Any],
    params: dict[str, np.ndarray] | None,
    x: np.ndarray,
    probes: list[list[Any]],
    step: float,
) -> dict[str, Any]:
    """Forward outputs at +step and -step along each probed coordinate.

    Each probe is ``[tensor, flat_index]`` with tensor "x", "weight" or "bias";
    the judge turns the outputs into central finite differences.
    """
    inputs = {"x": x, **(params or {})}
    outputs = []
    for tensor, index in probes:
        for sign in (1.0, -1.0):
            shifted = {name: value.copy() for name, value in inputs.items()}
            shifted[tensor].flat[index] += sign * step
            layer = build_layer(component, init, {k: v for k, v in shifted.items() if k != "x"})
            outputs.append(plain_array(layer.forward(shifted["x"]), "forward").astype(np.float64))
    return {"outputs": np.stack(outputs)}


class ParameterHolder:
    """A grader-owned layer with parameters, so SGD is tested on its own."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray) -> None:
        self.weight, self.bias = weight.copy(), bias.copy()
        self.dw, self.db = np.zeros_like(weight), np.zeros_like(bias)


class ParameterFree:
    """A grader-owned layer without parameters; SGD must skip it."""


@scenario("sgd.steps")
def sgd_steps(init: dict[str, Any], layers: list[dict[str, np.ndarray] | None], grads: list[list[Any]]) -> dict[str, Any]:
    """Run ``step()`` once per entry of ``grads``; return the parameters after each step."""
    holders = [ParameterHolder(**spec) if spec else ParameterFree() for spec in layers]
    optimizer = student_object("sgd")(holders, **init)
    history = []
    for step_grads in grads:
        for holder, grad in zip(holders, step_grads):
            if grad:
                holder.dw, holder.db = grad["dw"].copy(), grad["db"].copy()
        optimizer.step()
        history.append([
            {"weight": plain_array(h.weight, "step (weight)").copy(), "bias": plain_array(h.bias, "step (bias)").copy()}
            for h in holders
            if isinstance(h, ParameterHolder)
        ])
    return {"history": history}


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    n = len(labels)
    loss = -np.log(probs[np.arange(n), labels]).mean()
    probs[np.arange(n), labels] -= 1.0
    return float(loss), probs / n


@scenario("scratch.train")
def scratch_train(
    x: np.ndarray, y: np.ndarray, weights: dict[str, np.ndarray], architecture: dict[str, int], training: dict[str, Any]
) -> dict[str, Any]:
    """Train Conv2D -> ReLU -> MaxPool2D -> Linear with the student's SGD.

    The loop and the loss are the grader's; every layer and the optimizer are
    the student's. Returns the trained parameters and the loss per epoch.
    """
    conv = build_layer("conv", {
        "in_channels": x.shape[1], "out_channels": architecture["channels"],
        "kernel_size": architecture["kernel_size"], "stride": 1, "padding": architecture["padding"],
    }, {"weight": weights["conv_weight"], "bias": weights["conv_bias"]})
    linear = build_layer("linear", {
        "in_features": weights["linear_weight"].shape[1], "out_features": weights["linear_weight"].shape[0],
    }, {"weight": weights["linear_weight"], "bias": weights["linear_bias"]})
    layers = [conv, student_object("relu")(), student_object("maxpool")(architecture["pool"]), linear]
    optimizer = student_object("sgd")(layers, lr=training["lr"], momentum=training["momentum"])
    order = np.random.default_rng(training["seed"])
    losses, accuracies = [], []  # per epoch, on the training batches (for the report's learning curve)
    for _ in range(training["epochs"]):
        epoch_losses, correct = [], 0
        for batch in np.array_split(order.permutation(len(x)), max(1, len(x) // training["batch_size"])):
            out = x[batch]
            for layer in layers:
                out = layer.forward(out)
            loss, grad = softmax_cross_entropy(plain_array(out, "forward"), y[batch])
            correct += int(np.sum(np.argmax(out, axis=1) == y[batch]))
            for layer in reversed(layers):
                grad = layer.backward(grad)
            optimizer.step()
            epoch_losses.append(loss)
        losses.append(float(np.mean(epoch_losses)))
        accuracies.append(correct / len(x))
    return {
        "losses": losses, "history": [list(pair) for pair in zip(losses, accuracies)],
        "conv_weight": plain_array(conv.weight, "Conv2D.weight"), "conv_bias": plain_array(conv.bias, "Conv2D.bias"),
        "linear_weight": plain_array(linear.weight, "Linear.weight"), "linear_bias": plain_array(linear.bias, "Linear.bias"),
    }
