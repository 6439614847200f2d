"""End to end, Part 1: the student's Conv2D, ReLU, MaxPool2D, Linear and SGD learn real digits.

The loop and the loss are the grader's; accuracy is measured by torch on the
trained weights, on held-out images.
"""
import pytest

from grader.judge import feedback, training

pytestmark = pytest.mark.tags("conv", "relu", "maxpool", "linear", "sgd", "scratch_training", "accuracy")


def test_scratch_cnn_learns_digits(student, grader_config):
    recipe = grader_config.training["scratch_cnn"]
    threshold = grader_config.thresholds["scratch_cnn"]
    split = training.dataset_split(grader_config)
    x, y = split.x_train[: recipe["max_train"]].astype("float64"), split.y_train[: recipe["max_train"]]
    channels, side = recipe["channels"], x.shape[-1] // 2
    classes = int(split.y_train.max()) + 1
    weights = training.scratch_initial_weights(x.shape[1], channels, channels * side * side, classes, grader_config.seed)
    call = (f"Conv2D({x.shape[1]}, {channels}, 3, padding=1) -> ReLU -> MaxPool2D(2) -> Linear({channels * side * side}, {classes}), "
            f"SGD(lr={recipe['lr']}, momentum={recipe['momentum']}), {recipe['epochs']} epochs on {len(x)} {grader_config.dataset} images")
    result = student.run(
        "scratch.train", call, x=x, y=y, weights=weights,
        architecture={"channels": channels, "kernel_size": 3, "padding": 1, "pool": 2},
        training={k: recipe[k] for k in ("epochs", "batch_size", "lr", "momentum")} | {"seed": grader_config.seed},
    )
    trained = {name: result[name] for name in weights}
    for name, value in trained.items():
        if getattr(value, "shape", None) != weights[name].shape:
            feedback.fail(call, f"  {name} has shape {getattr(value, 'shape', None)} after training, expected {weights[name].shape}")
    accuracy = training.accuracy(training.scratch_logits(trained, split.x_val), split.y_val)
    student.record("scratch_cnn_accuracy", accuracy)
    losses = ", ".join(f"{loss:.3f}" for loss in result["losses"])
    if not accuracy >= threshold:
        feedback.fail(call, f"  validation accuracy {accuracy:.1%} is below the required {threshold:.0%} (loss per epoch: {losses})",
                      hint="the layer tests above say which component is wrong; if they all pass, check SGD's velocity and Linear's dw")
