"""Face analysis for cameos: detect faces with landmarks and head pose, embed them, compare.

Importing this package loads neither numpy nor a face model; a backend loads its model when
asked (`DlibAnalyzer.load()` in `engine.faces.dlib_backend`).
"""

from engine.faces.types import Box, Embedding, Face, FaceAnalyzer, FaceModelMismatch

__all__ = ["Box", "Embedding", "Face", "FaceAnalyzer", "FaceModelMismatch"]
