"""The checks every Part 1 layer goes through; each suite parametrizes them over its cases."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import compare, feedback, oracle
from .cases import LayerCase
from .plugin import Student


def _args(case: LayerCase) -> dict[str, Any]:
    x, params, _ = case.inputs()
    return {"component": case.component, "init": case.init, "params": params or None, "x": x}


def forward_shape(student: Student, case: LayerCase, hint: str) -> None:
    result = student.run("layer.forward", f"{case.call}: forward", cache_key=case.key, **_args(case))
    compare.check_shape("forward output", result["out"], case.out_shape, call=f"{case.call}: forward", hint=hint)


def forward_matches_torch(student: Student, case: LayerCase, hint: str) -> None:
    call = f"{case.call}: forward"
    result = student.run("layer.forward", call, cache_key=case.key, **_args(case))
    compare.check_array("forward output", result["out"], oracle.layer_reference(case)["out"], call=call, hint=hint,
                        axes=case.axes("out"), mistakes=lambda: oracle.layer_mistakes(case, "out"))


def backward(student: Student, case: LayerCase) -> dict[str, Any]:
    _, _, dout = case.inputs()
    return student.run("layer.backward", f"{case.call}: forward, then backward", cache_key=case.key, dout=dout, **_args(case))


def backward_matches_torch(student: Student, case: LayerCase, gradient: str, hint: str) -> None:
    """``gradient`` is "dx", "dw" or "db"; the returned dx or the attribute after backward."""
    result = backward(student, case)
    expected = oracle.layer_reference(case)[gradient]
    compare.check_array(gradient, result[gradient], expected, call=f"{case.call}: forward, then backward", hint=hint,
                        axes=case.axes(gradient), mistakes=lambda: oracle.layer_mistakes(case, gradient))


def parameters_unchanged(student: Student, cases: list[LayerCase]) -> None:
    """Forward and backward leave weight and bias as they were: same objects, same values (the optimizer updates them)."""
    for case in cases:
        _, _, dout = case.inputs()
        call = f"{case.call}: forward, then backward"
        changes = student.run("layer.parameters_kept", call, dout=dout, **_args(case))["changes"]
        if changes:
            feedback.fail(call, *(f"  {change}" for change in changes[:3]),
                          hint="forward and backward only compute out, dx, dw and db; leave self.weight and self.bias as they are "
                          "(the optimizer's step() updates them)")


def gradients_match_finite_differences(student: Student, case: LayerCase, hints: dict[str, str]) -> None:
    """The student's backward agrees with central differences of the student's own forward."""
    x, params, dout = case.inputs()
    call = f"{case.call}: backward vs finite differences of your forward"
    analytic = backward(student, case)
    probes = case.probes()
    result = student.run("layer.perturbed_outputs", call, probes=probes, step=case.step, **_args(case))
    compare.check_shape("forward output", result["outputs"], (2 * len(probes), *case.out_shape), call=call)
    numeric = compare.central_differences(result["outputs"], dout, case.step)
    names = {"x": "dx", "weight": "dw", "bias": "db"}
    for tensor, gradient in names.items():
        picked = [i for i, (name, _) in enumerate(probes) if name == tensor]
        if not picked:
            continue
        indices = [probes[i][1] for i in picked]
        compare.check_shape(gradient, analytic[gradient], {"x": x, **params}[tensor].shape, call=call)
        compare.check_array(
            f"{gradient} at {len(indices)} probed positions",
            np.asarray(analytic[gradient]).ravel()[indices],
            numeric[picked],
            call=call,
            hint=hints.get(gradient, ""),
            against="finite differences of your forward",
            tolerance=compare.FINITE_DIFFERENCES,
        )
