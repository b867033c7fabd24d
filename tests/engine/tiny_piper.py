"""A tiny Piper voice built offline: an ONNX model with Piper's inputs and outputs (phoneme ids
in, a waveform out, 200 samples a phoneme id, pitched by the id) and its JSON config, so the
real `PiperVoice.load` and phonemizer run in the tests without a 60 MB download."""

from __future__ import annotations

import json
from pathlib import Path

SAMPLES_PER_ID = 200


def _waveform_graph(speakers: int) -> object:
    """Phoneme ids (1, n) -> a tone (1, 1, n x 200) whose pitch follows each id."""
    from onnx import TensorProto, helper

    step = helper.make_node
    nodes = [
        step("Cast", ["input"], ["ids"], to=TensorProto.FLOAT),
        step("Unsqueeze", ["ids", "axis2"], ["column"]),
        step("Tile", ["column", "repeats"], ["held"]),
        step("Reshape", ["held", "shape"], ["pitch"]),
        step("Mul", ["pitch", "zero"], ["nothing"]),
        step("Add", ["nothing", "one"], ["ones"]),
        step("CumSum", ["ones", "axis2"], ["t"]),
        step("Mul", ["pitch", "per_id"], ["slope"]),
        step("Add", ["slope", "base"], ["rate"]),
        step("Mul", ["t", "rate"], ["phase"]),
        step("Sin", ["phase"], ["wave"]),
        step("Mul", ["wave", "half"], ["output"]),
    ]
    const = helper.make_tensor
    constants = [
        const("axis2", TensorProto.INT64, [1], [2]),
        const("repeats", TensorProto.INT64, [3], [1, 1, SAMPLES_PER_ID]),
        const("shape", TensorProto.INT64, [3], [1, 1, -1]),
        const("zero", TensorProto.FLOAT, [], [0.0]),
        const("one", TensorProto.FLOAT, [], [1.0]),
        const("per_id", TensorProto.FLOAT, [], [0.002]),
        const("base", TensorProto.FLOAT, [], [0.08]),
        const("half", TensorProto.FLOAT, [], [0.5]),
    ]
    # Piper feeds these (and `sid` to multi-speaker voices); onnxruntime refuses unknown inputs.
    inputs = [
        helper.make_tensor_value_info("input", TensorProto.INT64, [1, None]),
        helper.make_tensor_value_info("input_lengths", TensorProto.INT64, [1]),
        helper.make_tensor_value_info("scales", TensorProto.FLOAT, [3]),
    ]
    if speakers > 1:
        inputs.append(helper.make_tensor_value_info("sid", TensorProto.INT64, [1]))
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, None])
    return helper.make_graph(nodes, "tiny-piper", inputs, [output], constants)


def build_tiny_piper_voice(folder: Path, *, speakers: int = 1) -> Path:
    """`tiny-voice.onnx` and its `tiny-voice.onnx.json` in `folder`; returns the model's path."""
    import onnx
    from onnx import helper
    from piper.phoneme_ids import DEFAULT_PHONEME_ID_MAP

    model = helper.make_model(
        _waveform_graph(speakers),  # type: ignore[arg-type]
        opset_imports=[helper.make_opsetid("", 17)],
    )
    model.ir_version = 8  # readable by any onnxruntime from 1.10 on
    onnx.checker.check_model(model)
    path = folder / "tiny-voice.onnx"
    onnx.save(model, path)
    config = {
        "audio": {"sample_rate": 16000},
        "espeak": {"voice": "en-us"},
        "num_symbols": 256,
        "num_speakers": speakers,
        "phoneme_id_map": DEFAULT_PHONEME_ID_MAP,
    }
    Path(f"{path}.json").write_text(json.dumps(config))
    return path
