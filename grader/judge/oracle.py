"""Expected values, computed by torch in float64: the grader's trusted oracle."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .cases import LayerCase

# Expected values must not depend on the machine: one thread keeps torch's sums in one order.
torch.set_num_threads(1)


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


def layer_mistakes(case: LayerCase, quantity: str) -> list[tuple[str, np.ndarray]]:
    """What students often compute instead of ``quantity`` ("out", "dx", ...), for naming the likely cause of a mismatch."""
    x, params, dout = case.inputs()
    tx, tdout = torch.tensor(x), torch.from_numpy(dout)
    i = case.init
    found: list[tuple[str, torch.Tensor]] = []
    if case.component == "conv" and quantity == "out":
        w, b = torch.tensor(params["weight"]), torch.tensor(params["bias"])
        found.append(("torch's conv2d with the kernel flipped: a true convolution, but the contract is cross-correlation",
                      F.conv2d(tx, w.flip(2, 3), b, stride=i["stride"], padding=i["padding"])))
        found.append(("torch's conv2d without the bias", F.conv2d(tx, w, None, stride=i["stride"], padding=i["padding"])))
        found.append(("torch's conv2d with the bias added once per input channel (C_in times); it belongs once to each output value",
                      F.conv2d(tx, w, b * i["in_channels"], stride=i["stride"], padding=i["padding"])))
    if case.component == "linear" and quantity == "out":
        found.append(("x @ weight.T without the bias", F.linear(tx.flatten(1), torch.tensor(params["weight"]))))
    if case.component in ("conv", "maxpool") and quantity == "out":
        found += sides_swapped_in_loops(torch.from_numpy(layer_reference(case)["out"]))
    if case.component == "conv" and quantity == "dw" and i["stride"] > 1:
        # Windows at (h, w) instead of (h * stride, w * stride): a stride-1 convolution over the first rows and columns.
        w = torch.tensor(params["weight"], requires_grad=True)
        k, (h_out, w_out) = i["kernel_size"], dout.shape[2:]
        padded = F.pad(tx, [i["padding"]] * 4)[:, :, : h_out + k - 1, : w_out + k - 1]
        F.conv2d(padded, w).backward(tdout)
        found.append(("the dw of windows taken at (h, w) instead of (h * stride, w * stride)", w.grad))
    if case.component == "maxpool" and quantity == "dx":
        k, stride = i["kernel_size"], i.get("stride") or i["kernel_size"]
        tx.requires_grad_(True)
        (F.avg_pool2d(tx, k, stride) * k * k).backward(tdout)
        found.append(("dout sent to every element of its window; it belongs to the window's maximum only", tx.grad))
    if case.component == "relu" and quantity == "dx":
        found.append(("dout masked where dout > 0; the mask must come from the forward input x > 0", tdout * (tdout > 0)))
        found.append(("dout itself: no element was masked (a mask on the output with >= 0 is always true; mask where the input x > 0)", tdout))
    return [(what, value.detach().numpy()) for what, value in found]


def sides_swapped_in_loops(out: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """The output with the rows or columns past the other side's length left at 0: a loop bounded by H_out for columns, or the reverse."""
    h_out, w_out = out.shape[2:]
    if h_out == w_out:
        return []
    cut = out.clone()
    if h_out < w_out:
        cut[..., h_out:] = 0
        return [(f"the output with columns {h_out} to {w_out - 1} left at 0: the loop over columns must run to W_out = {w_out}, not H_out", cut)]
    cut[:, :, w_out:] = 0
    return [(f"the output with rows {w_out} to {h_out - 1} left at 0: the loop over rows must run to H_out = {h_out}, not W_out", cut)]


def model_mistakes(component: str, model: torch.nn.Module, x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Logits of common wrong architectures, with the weights of the grader's ``model`` (trusted.GRADER_MODELS)."""
    model.eval()
    with torch.no_grad():
        tx = torch.from_numpy(x)
        if component == "twolayer":
            hidden = model.hidden(tx.flatten(1))
            found = [
                ("the logits with ReLU in place of the sigmoid", model.output(torch.relu(hidden))),
                ("the logits without an activation between the two layers", model.output(hidden)),
                ("the softmax of the logits; return the logits themselves", torch.softmax(model.output(torch.sigmoid(hidden)), dim=1)),
            ]
        else:
            features = model.conv(tx)
            found = [
                ("the logits without the ReLU", model.fc(model.pool(features).flatten(1))),
                ("the logits with average pooling in place of max pooling", model.fc(F.avg_pool2d(torch.relu(features), 2, 2).flatten(1))),
                ("the softmax of the logits; return the logits themselves", torch.softmax(model(tx), dim=1)),
            ]
    return [(what, value.double().numpy()) for what, value in found]


def sgd_history(
    options: dict[str, Any], layers: list[dict[str, np.ndarray] | None], grads: list[list[Any]], decay_added_to_grad: float = 0.0
) -> list[list[dict[str, np.ndarray]]]:
    """Parameters after each step of torch.optim.SGD with the given gradients (plus ``decay_added_to_grad * param``)."""
    tensors = [{k: torch.tensor(v) for k, v in spec.items()} for spec in layers if spec]
    optimizer = torch.optim.SGD([t for pair in tensors for t in pair.values()], **options)
    history = []
    for step_grads in grads:
        for pair, grad in zip(tensors, [g for g, spec in zip(step_grads, layers) if spec]):
            for name, grad_name in (("weight", "dw"), ("bias", "db")):
                pair[name].grad = torch.tensor(grad[grad_name]) + decay_added_to_grad * pair[name].detach()
        optimizer.step()
        history.append([{k: v.detach().numpy().copy() for k, v in pair.items()} for pair in tensors])
    return history


def sgd_mistakes(
    options: dict[str, Any], layers: list[dict[str, np.ndarray] | None], grads: list[list[Any]], parameter: str = "weight"
) -> list[tuple[str, list[list[dict[str, np.ndarray]]]]]:
    """Histories of common wrong updates (as sgd_history returns them), for naming the likely cause of a mismatch in ``parameter``."""
    momentum, decay, lr = options.get("momentum", 0.0), options.get("weight_decay", 0.0), options["lr"]
    twice = sgd_history({**options, "weight_decay": lr * decay}, layers, scaled(grads, lr))  # the step lr * (grad + wd * p), times lr again
    found = [("the update with the learning rate applied twice: param - lr * (lr * grad); multiply by lr once", twice)]
    if momentum:
        found.append(("the update without momentum (each parameter's velocity must be kept across steps)", sgd_history({**options, "momentum": 0.0}, layers, grads)))
        found.append(("torch.optim.SGD with dampening = momentum, v = momentum * v + (1 - momentum) * g (dampening must be 0)",
                      sgd_history({**options, "dampening": momentum}, layers, grads)))
    if decay:
        found.append(("the update with grad - weight_decay * param (the sign of weight decay is +)", sgd_history({**options, "weight_decay": 0.0}, layers, grads, -decay)))
        undecayed = ("the bias updated without weight decay: torch's weight decay applies to the bias too, not only to the weight"
                     if parameter == "bias" else "the update without weight decay")
        found.append((undecayed, sgd_history({**options, "weight_decay": 0.0}, layers, grads)))
    return found


def scaled(grads: list[list[Any]], factor: float) -> list[list[Any]]:
    """Every step's dw and db times ``factor`` (``None`` for layers without parameters kept)."""
    return [[{name: factor * value for name, value in grad.items()} if grad else grad for grad in step] for step in grads]
