"""train_epoch on the grader's model: mode, zero_grad, one step per batch, and what it returns.

Each test states one property. The parameter, loss and accuracy tests compare with
a replay of the student's own calls in the student's modes (``loops.replay_train_epoch``),
so a wrong mode or call order costs only the test that states it.
"""
import pytest

from grader.judge import compare, feedback, loops

pytestmark = pytest.mark.tags("train_epoch")

CALL = (loops.CALL.format(function="train_epoch", rest="SGD(lr=0.1, momentum=0.9), ")
        + ", with the model in eval mode and stale gradients in every .grad before the call")


@pytest.fixture
def observed(student):
    case = loops.inputs() | {"stale": loops.stale_gradients()}
    return case, student.run("loop.train_epoch", CALL, cache_key="train_epoch", training=loops.TRAINING, **case)


@pytest.fixture
def replay(observed):
    case, result = observed
    return loops.replay_train_epoch(case, result["events"], [call["training"] for call in result["calls"]])


def batches(events):
    """Split the event log at each forward call."""
    groups = []
    for event in events:
        if event["event"] == "forward":
            groups.append([])
        if groups:
            groups[-1].append(event)
    return groups


def first_batch(events):
    """The calls up to the second forward pass, e.g. "zero_grad, forward, backward, step"."""
    forwards = [i for i, event in enumerate(events) if event["event"] == "forward"]
    return ", ".join(event["event"] for event in events[: forwards[1] if len(forwards) > 1 else len(events)]) or "no calls"


def test_uses_training_mode(observed):
    _, result = observed
    modes = [call["training"] for call in result["calls"]]
    if not modes or not all(modes):
        feedback.fail(CALL, f"  forward saw model.training = {modes}",
                      hint="call model.train() at the start of train_epoch (validate's model.eval() stays on otherwise)")


def zero_grad_hint(events):
    """Name the order when gradients are cleared only after step()."""
    kinds = [event["event"] for event in events]
    first = {kind: kinds.index(kind) for kind in ("zero_grad", "step") if kind in kinds}
    if len(first) == 2 and first["step"] < first["zero_grad"]:
        return ("your loop calls optimizer.zero_grad() after optimizer.step(), so the first backward adds to the gradients "
                "already in .grad (from an earlier epoch): call it before loss.backward()")
    return "call optimizer.zero_grad() in every batch, before loss.backward() (gradients from before the call must not reach a step)"


def test_zero_grad_before_each_backward(observed):
    _, result = observed
    backwards = [event for event in result["events"] if event["event"] == "backward"]
    stale = [i for i, event in enumerate(backwards, start=1) if not event["clean"]]
    if not backwards or stale:
        feedback.fail(CALL, f"  {len(backwards)} backward passes; gradients were not zeroed before pass(es) {stale}", hint=zero_grad_hint(result["events"]))


def test_steps_once_per_batch(observed):
    _, result = observed
    groups = batches(result["events"])
    pattern = [[e["event"] for e in group if e["event"] in ("backward", "step")] for group in groups]
    if len(groups) != 3:
        feedback.fail(CALL, f"  the model's forward ran {len(groups)} times for 3 batches; the calls after each were {pattern}",
                      hint="one forward pass per batch; take the loss and the predictions for the accuracy from its outputs")
    if any(p != ["backward", "step"] for p in pattern):
        feedback.fail(CALL, f"  per batch, after the forward pass, the calls were {pattern}; expected ['backward', 'step'] for each of 3 batches",
                      hint="one loss.backward() then one optimizer.step() per batch, in that order")


def test_updates_parameters_like_reference(observed, replay):
    _, result = observed
    for name in loops.parameter_names():
        compare.check_array(f"parameter {name} after the epoch", result["state"].get(name), replay.state[name].astype("float64"),
                            call="\n".join([CALL, *replay.lines()]), against="your calls replayed with the contract's loss",
                            hint=f"backward the loss criterion(outputs, targets) of each batch's outputs, unscaled, before step() (your calls began: {first_batch(result['events'])})")


def test_returns_mean_loss_per_sample(observed, replay):
    _, result = observed
    compare.check_scalar("mean_loss", result["result"][0], replay.loss, call="\n".join([CALL, *replay.lines()]),
                         hint="weight each batch's mean loss by its size and divide by the number of samples (the last batch is short)")


def test_returns_accuracy(observed, replay):
    _, result = observed
    compare.check_scalar("accuracy", result["result"][1], replay.accuracy, call="\n".join([CALL, *replay.lines()]),
                         hint="count correct argmax(outputs, dim=1) of each batch's forward over all samples, divide by the number of samples (a fraction in [0, 1])")
