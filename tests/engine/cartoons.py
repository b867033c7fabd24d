"""The sketch engine's cartoon and the astronaut's face crops that the cameo tests paste into
it (engine.composite), cut as enrollment cuts its reference crops."""

from __future__ import annotations

import numpy as np

from engine.faces.dlib_backend import DlibAnalyzer
from engine.request import RenderRequest
from engine.sketch import SketchBackend
from tests.engine.faces import photos
from tests.engine.factories import never

# The astronaut's face box centre and width in the 512x512 photo, as dlib finds it.
_FACE_CENTRE_X = 222.5
_FACE_WIDTH = 87


def astronaut_crops(analyzer: DlibAnalyzer) -> tuple[np.ndarray, ...]:
    """The astronaut turned left, ahead and right, each cut around dlib's box as enrollment
    cuts its reference crops (a quarter of the face size around it)."""
    crops = []
    for degrees in (-20, 0, 20):
        image = photos.turned(
            photos.astronaut(), _FACE_CENTRE_X, radius=0.6 * _FACE_WIDTH, degrees=degrees
        )
        face = analyzer.detect(image)[0]
        box, margin = face.box, round(face.size / 4)
        rows = slice(max(box.top - margin, 0), box.bottom + margin)
        columns = slice(max(box.left - margin, 0), box.right + margin)
        crops.append(np.ascontiguousarray(image[rows, columns]))
    return tuple(crops)


def cartoon(*, frames: int = 24, side: int = 512, fps: int = 12) -> np.ndarray:
    """The sketch engine's own frames, the background cameos are pasted into."""
    request = RenderRequest(
        prompt="a cat at a party", seed=5, width=side, height=side, fps=fps, frames=frames
    )
    return SketchBackend().render_frames(request, never)
