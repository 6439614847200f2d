"""The checks both PyTorch models go through; the suites parametrize them."""
from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import torch

from ..config import GraderConfig
from ..worker.runtime import assignment, trusted
from . import compare, feedback, oracle, training
from .plugin import Student


def describe_call(component: str, init: dict[str, Any]) -> str:
    return f"{assignment.component(component).object}({', '.join(f'{k}={v}' for k, v in init.items())})"


def grader_model(component: str, init: dict[str, Any], seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return trusted.GRADER_MODELS[component](**init)


def sample_input(init: dict[str, Any], batch: int = 3) -> np.ndarray:
    rng = np.random.default_rng(7)
    if "input_dim" in init:
        return rng.standard_normal((batch, init["input_dim"])).astype(np.float32).reshape(batch, 1, 1, -1)
    return rng.standard_normal((batch, init["in_channels"], init["image_size"], init["image_size"])).astype(np.float32)


def parameter_shapes(student: Student, component: str, init: dict[str, Any], hint: str) -> None:
    call = describe_call(component, init)
    found = student.run("model.describe", call, cache_key=(component, str(init)), component=component, init=init)
    got = Counter(tuple(shape) for _, shape in found["parameters"])
    want = Counter(tuple(p.shape) for p in grader_model(component, init).parameters())
    if got != want:
        feedback.fail(
            call,
            f"  parameter shapes {sorted(got.elements())}",
            f"  expected         {sorted(want.elements())}",
            *shape_differences(got, want, init),
            hint=hint,
        )


def shape_differences(got: Counter[tuple[int, ...]], want: Counter[tuple[int, ...]], init: dict[str, Any]) -> list[str]:
    """What the differing shapes have in common, when something simple: missing biases, or an axis sized by the wrong argument."""
    missing, extra = list((want - got).elements()), list((got - want).elements())
    if missing and not extra and all(len(shape) == 1 for shape in missing):
        return [f"missing 1-D parameters {missing}: a layer built with bias=False? nn.Linear and nn.Conv2d have a bias by default"]
    lines = []
    for wrong in extra:
        for right in missing:
            axes = [axis for axis, (a, b) in enumerate(zip(wrong, right)) if a != b] if len(wrong) == len(right) else []
            named = [name for name, value in init.items() if len(axes) == 1 and value == right[axes[0]]]
            if named:
                lines.append(f"{wrong} where {right} is expected: its axis {axes[0]} must be {' or '.join(named)} = {right[axes[0]]}, not {wrong[axes[0]]}")
                break
    return lines


def parameter_count(student: Student, component: str, init: dict[str, Any]) -> None:
    call = describe_call(component, init)
    found = student.run("model.describe", call, cache_key=(component, str(init)), component=component, init=init)
    got = sum(int(np.prod(shape)) for _, shape in found["parameters"])
    want = sum(p.numel() for p in grader_model(component, init).parameters())
    if got != want:
        feedback.fail(call, f"  the model has {got} parameters, expected {want} (in {len(found['parameters'])} tensors: {[n for n, _ in found['parameters']]})")


def output_shape(student: Student, component: str, init: dict[str, Any]) -> None:
    x = sample_input(init)
    call = f"{describe_call(component, init)} on input of shape {x.shape}"
    logits = student.run("model.logits", call, component=component, init=init, layers=None, x=x)["logits"]
    compare.check_shape("output", logits, (len(x), init["num_classes"]), call=call,
                        hint="return one row of num_classes logits per sample; flatten (N, ...) inputs with torch.flatten(x, 1) before an nn.Linear")


def logits_match(student: Student, component: str, init: dict[str, Any], hint: str) -> None:
    x = sample_input(init)
    model = grader_model(component, init, seed=1)
    call = f"{describe_call(component, init)} with the grader's weights, on input of shape {x.shape}"
    logits = student.run("model.logits", call, component=component, init=init, layers=trusted.extract_layers(model), x=x)["logits"]
    compare.check_array("logits", logits, trusted.logits_of(model, x).astype(np.float64), call=call, hint=hint, against="the contract's architecture",
                        axes=("sample", "class"), mistakes=lambda: oracle.model_mistakes(component, model, x))


def trained_accuracy(student: Student, config: GraderConfig, component: str, scenario: str, recipe_name: str) -> None:
    """Train (scenario "model.train" or "e2e.train"), then score the returned weights on held-out data."""
    recipe = config.training[recipe_name]
    threshold = config.thresholds[recipe_name]
    split = training.dataset_split(config, config.dataset_options.get("image_size") if component == "vanilla_cnn" else None)
    init = training.model_init(component, config, split)
    loop = "your train_epoch" if scenario == "e2e.train" else "the grader's training loop"
    call = f"{describe_call(component, init)} trained by {loop} for {recipe['epochs']} epochs on {len(split.x_train)} {config.dataset} images"
    result = student.run(
        scenario, call, component=component, init=init, layers=training.initial_layers(component, init, config.seed),
        x=split.x_train, y=split.y_train,
        training={k: recipe[k] for k in ("epochs", "batch_size", "lr", "momentum")} | {"seed": config.seed},
    )
    try:
        accuracy = training.model_accuracy(component, init, result["layers"], split.x_val, split.y_val)
    except (LookupError, RuntimeError, TypeError) as error:
        feedback.fail(call, f"  the trained weights do not fit the contract's architecture: {error}")
    student.record(f"{recipe_name}_accuracy", accuracy)
    if not accuracy >= threshold:
        # The end-to-end test trains with the student's loop too: either may be what differs.
        checked_by = f"the shape and logits tests of {assignment.component(component).object}"
        if scenario == "e2e.train":
            checked_by += " and the train_epoch tests"
        feedback.fail(call, f"  validation accuracy {accuracy:.1%} is below the required {threshold:.0%}",
                      hint=f"{checked_by} say what differs from the contract")
