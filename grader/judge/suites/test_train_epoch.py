"""train_epoch on the grader's model: mode, zero_grad, one step per batch, and what it returns."""
import pytest

from grader.judge import compare, feedback, loops

pytestmark = pytest.mark.tags("train_epoch")

CALL = loops.CALL.format(function="train_epoch", rest="SGD(lr=0.1, momentum=0.9), ") + ", with the model in eval mode before the call"


@pytest.fixture
def observed(student):
    case = loops.inputs()
    return case, student.run("loop.train_epoch", CALL, cache_key="train_epoch", training=loops.TRAINING, **case)


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
        feedback.fail(CALL, f"  forward saw model.training = {modes}", "  Hint: call model.train() before the loop")


def test_zero_grad_before_each_backward(observed):
    _, result = observed
    backwards = [event for event in result["events"] if event["event"] == "backward"]
    stale = [i for i, event in enumerate(backwards, start=1) if not event["clean"]]
    if not backwards or stale:
        feedback.fail(CALL, f"  {len(backwards)} backward passes; gradients were not zeroed before pass(es) {stale}",
                      "  Hint: call optimizer.zero_grad() in every batch, before loss.backward()")


def test_steps_once_per_batch(observed):
    _, result = observed
    groups = batches(result["events"])
    pattern = [[e["event"] for e in group if e["event"] in ("backward", "step")] for group in groups]
    if len(groups) != 3:
        feedback.fail(CALL, f"  the model's forward ran {len(groups)} times for 3 batches; the calls after each were {pattern}",
                      "  Hint: one forward pass per batch; take the loss and the predictions for the accuracy from its outputs")
    if any(p != ["backward", "step"] for p in pattern):
        feedback.fail(CALL, f"  per batch, after the forward pass, the calls were {pattern}; expected ['backward', 'step'] for each of 3 batches",
                      "  Hint: one loss.backward() then one optimizer.step() per batch, in that order")


def test_updates_parameters_like_reference(observed):
    case, result = observed
    _, expected = loops.replay_train_epoch(case)
    for name in loops.parameter_names():
        compare.check_array(f"parameter {name} after the epoch", result["state"].get(name), expected[name].astype("float64"), call=CALL,
                            hint=f"per batch: zero_grad, forward, loss, backward, step, in that order (yours began: {first_batch(result['events'])})",
                            against="the contract's loop")


def test_returns_mean_loss_per_sample(observed):
    case, result = observed
    (loss, _), _ = loops.replay_train_epoch(case)
    compare.check_scalar("mean_loss", result["result"][0], loss, call=CALL,
                         hint="weight each batch's mean loss by its size and divide by the number of samples (the last batch is short)")


def test_returns_accuracy(observed):
    case, result = observed
    (_, accuracy), _ = loops.replay_train_epoch(case)
    compare.check_scalar("accuracy", result["result"][1], accuracy, call=CALL,
                         hint="count correct argmax(outputs, dim=1) over all samples, divide by the number of samples (a fraction in [0, 1])")
