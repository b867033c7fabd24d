"""Fitting a finished clip under a platform's upload limit (Telegram's 50 MB, Discord's 10 MiB).

A light task: the bot asks a light worker for a smaller encode after a platform refused the
clip's size (the first encode already aims at the limit the job carried). Each try aims lower;
below `engine.encode.MIN_VIDEO_BPS` of video the clip is mush, so the worker says it cannot fit.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from engine.provenance.manifest import ClipSigner, sign_refit
from engine.queue import Payload
from storage.blobs import Blobs


@dataclass(frozen=True)
class FitRequest:
    blob_key: str
    max_bytes: int

    @classmethod
    def from_payload(cls, payload: Payload) -> FitRequest:
        return cls(blob_key=str(payload["blob_key"]), max_bytes=int(payload["max_bytes"]))


def fit_clip(data: bytes, max_bytes: int) -> bytes:
    """The same clip re-encoded to at most `max_bytes` (returned as is if it fits already).
    Raises engine.encode.ClipTooLarge, with a readable message, if it cannot be made to fit."""
    if len(data) <= max_bytes:
        return data
    from engine.encode import decode_audio, decode_video, encode_mp4, probe_mp4

    probe = probe_mp4(data)
    audio, sample_rate = decode_audio(data) if probe.audio_codec else (None, 48_000)
    return encode_mp4(
        decode_video(data),
        audio,
        fps=round(probe.fps),
        sample_rate=sample_rate,
        # Provenance carries over; the container's own keys are written anew.
        metadata={
            k: v for k, v in probe.metadata.items() if k.startswith("clipcrew_") or k == "comment"
        },
        target_bytes=max_bytes,
    )


async def fit_stored(
    blobs: Blobs, request: FitRequest, *, signer: ClipSigner | None = None
) -> Payload:
    """Re-encode the stored clip under the limit and store the result beside it; the answer
    names the fitted file. ClipTooLarge (an EngineError) when it cannot fit. With `signer` the
    fitted file is signed again (the re-encode dropped the C2PA manifest), naming the original
    as its parent."""
    data = await blobs.read(request.blob_key)
    fitted = await asyncio.to_thread(_fit_and_sign, data, request.max_bytes, signer)
    key = await blobs.put(fitted, "mp4")
    return {"blob_key": key, "size_bytes": len(fitted)}


def _fit_and_sign(data: bytes, max_bytes: int, signer: ClipSigner | None) -> bytes:
    from engine.encode import ClipTooLarge

    fitted = fit_clip(data, max_bytes)
    if signer is None or fitted is data:
        return fitted
    signed = sign_refit(data, fitted, signer)
    if len(signed) > max_bytes:
        # The manifest (about 10 KB: its own and the original's) pushed it over: leave it room.
        try:
            smaller = fit_clip(data, max_bytes - (len(signed) - len(fitted)) - 1024)
        except ClipTooLarge:
            return fitted  # posted unsigned; its fingerprint still traces it
        signed = sign_refit(data, smaller, signer)
        fitted = smaller
    return signed if len(signed) <= max_bytes else fitted
