"""A tiny InsightFace model pack built offline: ONNX models with the signatures insightface's
`model_zoo.get_model` routes by, so the real `FaceAnalysis` and `INSwapper` load and run them
without the 300 MB buffalo_l download.

The detector is an SCRFD look-alike (9 outputs: scores, boxes and 5 keypoints at strides 8, 16,
32) that "finds a face" in every bright 32x32 cell of its 128x128 input: the cell's mean
brightness, through a steep sigmoid, is the score; the box is the cell; the keypoints sit where a
frontal face has its eyes, nose and mouth corners. `face_photo()` draws such a face. The other
models are random linear maps of the image, so their outputs follow the input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

DETECTOR_SIDE = 128
# Keypoints in cell units from the cell's top-left corner: eyes, nose tip, mouth corners.
KEYPOINTS = [(0.3, 0.35), (0.7, 0.35), (0.5, 0.55), (0.35, 0.75), (0.65, 0.75)]
PHOTO_SIDE = 256
# Where face_photo() draws its face by default: one 32x32 detector cell at the photo's half
# scale. Any box on the photo's 64-pixel grid is a cell.
FACE_BOX = (64, 64, 128, 128)


def face_photo(seed: int, *, box: tuple[int, int, int, int] = FACE_BOX) -> np.ndarray:
    """A 256x256 RGB photo: a dark ground with one bright square of 8x8-pixel blocks, the
    detector's "face". The blocks' colours are the seed's: the tiny ArcFace tells them apart,
    and the same seed drawn elsewhere is the same face."""
    rng = np.random.default_rng(seed)
    image = np.full((PHOTO_SIDE, PHOTO_SIDE, 3), 20, dtype=np.uint8)
    left, top, right, bottom = box
    blocks = rng.integers(170, 256, size=((bottom - top) // 8, (right - left) // 8, 3))
    image[top:bottom, left:right] = np.kron(blocks, np.ones((8, 8, 1))).astype(np.uint8)
    return image


def _constant(name: str, array: np.ndarray) -> Any:
    from onnx import numpy_helper

    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def _save(graph: Any, path: Path) -> Path:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by any onnxruntime from 1.10 on
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path)
    return path


def _detector_graph() -> Any:
    """SCRFD's 9-output layout (2 anchors a cell): scores (N, 1), boxes (N, 4), kps (N, 10)."""
    from onnx import TensorProto, helper

    step = helper.make_node
    nodes = [step("ReduceMean", ["input.1"], ["gray"], axes=[1], keepdims=1)]
    initializers = [
        _constant("box_row", np.array([[0.0, 0.0, 1.0, 1.0]])),
        _constant("kps_row", np.array([KEYPOINTS]).reshape(1, 10)),
        _constant("zero", np.array(0.0)),
        helper.make_tensor("column", TensorProto.INT64, [2], [-1, 1]),
    ]
    outputs: dict[str, list[Any]] = {"score": [], "bbox": [], "kps": []}
    for stride in (8, 16, 32):
        s = str(stride)
        # Only the coarsest level fires: on cells brighter than about 180 of 255.
        gain, bias = (20.0, -8.0) if stride == 32 else (0.0, -10.0)
        initializers += [
            _constant(f"gain{s}", np.array(gain)),
            _constant(f"bias{s}", np.array(bias)),
        ]
        count = (DETECTOR_SIDE // stride) ** 2 * 2
        nodes += [
            step(
                "AveragePool",
                ["gray"],
                [f"pool{s}"],
                kernel_shape=[stride] * 2,
                strides=[stride] * 2,
            ),
            step("Mul", [f"pool{s}", f"gain{s}"], [f"scaled{s}"]),
            step("Add", [f"scaled{s}", f"bias{s}"], [f"logit{s}"]),
            step("Sigmoid", [f"logit{s}"], [f"cell{s}"]),
            step("Reshape", [f"cell{s}", "column"], [f"flat{s}"]),
            # Two anchors a cell, both with the cell's score.
            step("Concat", [f"flat{s}", f"flat{s}"], [f"pair{s}"], axis=1),
            step("Reshape", [f"pair{s}", "column"], [f"score_{s}"]),
            step("Mul", [f"score_{s}", "zero"], [f"none{s}"]),
            step("Add", [f"none{s}", "box_row"], [f"bbox_{s}"]),
            step("Add", [f"none{s}", "kps_row"], [f"kps_{s}"]),
        ]
        for kind, width in (("score", 1), ("bbox", 4), ("kps", 10)):
            outputs[kind].append(
                helper.make_tensor_value_info(f"{kind}_{s}", TensorProto.FLOAT, [count, width])
            )
    image = helper.make_tensor_value_info(
        "input.1", TensorProto.FLOAT, [1, 3, DETECTOR_SIDE, DETECTOR_SIDE]
    )
    ordered = outputs["score"] + outputs["bbox"] + outputs["kps"]
    return helper.make_graph(nodes, "tiny-scrfd", [image], ordered, initializers)


def _linear_graph(name: str, side: int, constant: np.ndarray, weights: np.ndarray) -> Any:
    """(1, 3, side, side) image -> constant + (per-channel means @ weights): (1, outputs)."""
    from onnx import TensorProto, helper

    step = helper.make_node
    nodes = [
        step("ReduceMean", ["data"], ["means"], axes=[2, 3], keepdims=0),
        step("MatMul", ["means", "weights"], ["varying"]),
        step("Add", ["varying", "constant"], ["output"]),
    ]
    initializers = [_constant("weights", weights), _constant("constant", constant)]
    image = helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, side, side])
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, constant.shape[1]])
    return helper.make_graph(nodes, name, [image], [output], initializers)


def _landmarks_106_graph(rng: np.random.Generator) -> Any:
    """106 (x, y) points in the crop's [-1, 1] units, inside the face box (about +-0.67)."""
    constant = rng.uniform(-0.5, 0.5, size=(1, 212))
    return _linear_graph("tiny-2d106", 192, constant, rng.normal(0, 0.01, size=(3, 212)))


def _landmarks_68_graph(yaw_degrees: float) -> Any:
    """insightface's own mean 3D face turned by `yaw_degrees` (positive: nose to the image's
    right), as the last 68 of 1103 (x, y, z) points: the 1k3d68 model's layout."""
    from insightface.data import get_object

    mean = np.asarray(get_object("meanshape_68.pkl"), dtype=np.float64)
    turn = np.radians(yaw_degrees)
    # x right, y down, z toward the camera: turning moves the nose (large z) along +x.
    rotation = np.array(
        [[np.cos(turn), 0, np.sin(turn)], [0, 1, 0], [-np.sin(turn), 0, np.cos(turn)]]
    )
    points = np.zeros((1103, 3))
    points[-68:] = 0.9 * (mean - mean.mean(axis=0)) @ rotation.T
    return _linear_graph("tiny-1k3d68", 192, points.reshape(1, -1), np.zeros((3, 3309)))


def _arcface_graph(rng: np.random.Generator) -> Any:
    """112x112 face crop -> 8x8-pooled pixels through a random 588x512 matrix."""
    from onnx import TensorProto, helper

    step = helper.make_node
    nodes = [
        step("AveragePool", ["data"], ["pooled"], kernel_shape=[8, 8], strides=[8, 8]),
        step("Flatten", ["pooled"], ["flat"], axis=1),
        step("MatMul", ["flat", "weights"], ["fc1"]),
    ]
    weights = _constant("weights", rng.normal(0, 1, size=(3 * 14 * 14, 512)))
    image = helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 112, 112])
    output = helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [1, 512])
    return helper.make_graph(nodes, "tiny-arcface", [image], [output], [weights])


def _swapper_graph(rng: np.random.Generator) -> Any:
    """INSwapper's layout: target (1, 3, 128, 128) in [0, 1] and source latent (1, 512) in; out
    half the target plus half a colour chosen by the latent. `emap` is the last initializer,
    where INSwapper reads it."""
    from onnx import TensorProto, helper

    step = helper.make_node
    nodes = [
        step("MatMul", ["source", "colour_weights"], ["colour_logits"]),
        step("Sigmoid", ["colour_logits"], ["colour"]),
        step("Reshape", ["colour", "pixel_shape"], ["pixel"]),
        step("Add", ["target", "pixel"], ["sum"]),
        step("Mul", ["sum", "half"], ["output"]),
    ]
    initializers = [
        _constant("colour_weights", rng.normal(0, 3, size=(512, 3))),
        helper.make_tensor("pixel_shape", TensorProto.INT64, [4], [1, 3, 1, 1]),
        _constant("half", np.array(0.5)),
        _constant("emap", np.eye(512) + rng.normal(0, 0.01, size=(512, 512))),
    ]
    inputs = [
        helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 128, 128]),
        helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512]),
    ]
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 128, 128])
    return helper.make_graph(nodes, "tiny-inswapper", inputs, [output], initializers)


def build_tiny_pack(
    root: Path,
    name: str = "tiny_l",
    *,
    landmarks_106: bool = True,
    landmarks_68_yaw: float | None = None,
    seed: int = 0,
) -> Path:
    """`<root>/models/<name>/` with a detector and ArcFace, and optionally the 2d106 and 1k3d68
    landmark models (the latter facing `landmarks_68_yaw` degrees); returns the folder."""
    rng = np.random.default_rng(seed)
    folder = root / "models" / name
    _save(_detector_graph(), folder / "det_tiny.onnx")
    _save(_arcface_graph(rng), folder / "w_tiny.onnx")
    if landmarks_106:
        _save(_landmarks_106_graph(rng), folder / "2d106_tiny.onnx")
    if landmarks_68_yaw is not None:
        _save(_landmarks_68_graph(landmarks_68_yaw), folder / "1k3d68_tiny.onnx")
    return folder


def build_tiny_swapper(path: Path, *, seed: int = 0) -> Path:
    """An INSwapper-shaped `inswapper_128.onnx` at `path`."""
    return _save(_swapper_graph(np.random.default_rng(seed)), path)
