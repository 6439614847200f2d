"""The judge/worker wire format carries plain data only."""
from __future__ import annotations

import base64
import io
import json
import pickle

import numpy as np
import pytest

from grader.worker.runtime import wire


def test_arrays_and_scalars_round_trip():
    message = {"x": np.arange(6, dtype=np.float32).reshape(2, 3), "n": 3, "f": 0.5, "nested": [{"y": np.ones(2)}]}
    back = wire.loads(wire.dumps(message))
    assert back["x"].dtype == np.float32 and back["x"].shape == (2, 3)
    np.testing.assert_array_equal(back["x"], message["x"])
    assert back["n"] == 3 and back["f"] == 0.5
    assert type(back["nested"][0]["y"]) is np.ndarray


def test_object_arrays_cannot_be_sent():
    with pytest.raises(ValueError):
        wire.dumps({"x": np.array([object()], dtype=object)})


def test_a_pickled_array_is_refused_by_the_reader():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    frame = json.dumps({"x": {"__ndarray__": base64.b64encode(buffer.getvalue()).decode()}}).encode()
    with pytest.raises(wire.WireError):
        wire.loads(frame)


def test_non_numeric_arrays_are_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array(["text"]))
    frame = json.dumps({"x": {"__ndarray__": base64.b64encode(buffer.getvalue()).decode()}}).encode()
    with pytest.raises(wire.WireError, match="not a plain numeric array"):
        wire.loads(frame)


def test_frames_round_trip_through_a_stream():
    stream = io.BytesIO()
    wire.write_frame(stream, {"id": 1, "x": np.zeros(3)})
    stream.seek(0)
    assert wire.read_frame(stream)["id"] == 1
    with pytest.raises(EOFError):
        wire.read_frame(stream)


def test_garbage_is_a_wire_error_not_a_crash():
    with pytest.raises(wire.WireError):
        wire.loads(pickle.dumps({"a": 1}))
