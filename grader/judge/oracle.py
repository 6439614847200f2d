"""Expected values, computed by torch in float64: the grader's trusted oracle."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .cases import LayerCase


def _forward(case: LayerCase, x: torch.Tensor, params: dict[str, torch.Tensor]) -> torch.Tensor:
    i = case.init
    if case.component == "conv":
        return F.conv2d(x, params["weight"], params["bias"], stride=i["stride"], padding=i["padding"])
    if case.component == "maxpool":
        return F.max_pool2d(x, i["kernel_size"], i.get("stride") or i["kernel_size"])
    if case.component == "relu":
        return F.relu(x)
    return F.linear(x.flatten(1), params["weight"], params["bias"])


def layer_reference(case: LayerCase) -> dict[str, np.ndarray]:
    """out, dx and (for layers with parameters) dw, db for the case's inputs."""
    x, params, dout = case.inputs()
    tx = torch.tensor(x, requires_grad=True)
    tparams = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
    out = _forward(case, tx, tparams)
    out.backward(torch.from_numpy(dout))
    result = {"out": out.detach().numpy(), "dx": tx.grad.numpy()}
    short = {"weight": "dw", "bias": "db"}
    result.update({short[name]: tensor.grad.numpy() for name, tensor in tparams.items()})
    return result


def sgd_history(options: dict[str, Any], layers: list[dict[str, np.ndarray] | None], grads: list[list[Any]]) -> list[list[dict[str, np.ndarray]]]:
    """Parameters after each step of torch.optim.SGD with the given gradients."""
    tensors = [{k: torch.tensor(v) for k, v in spec.items()} for spec in layers if spec]
    optimizer = torch.optim.SGD([t for pair in tensors for t in pair.values()], **options)
    history = []
    for step_grads in grads:
        for pair, grad in zip(tensors, [g for g, spec in zip(step_grads, layers) if spec]):
            pair["weight"].grad, pair["bias"].grad = torch.tensor(grad["dw"]), torch.tensor(grad["db"])
        optimizer.step()
        history.append([{k: v.detach().numpy().copy() for k, v in pair.items()} for pair in tensors])
    return history
