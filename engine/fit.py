"""Fitting a finished clip under a platform's upload limit: part of the job interface the bot
uses (Telegram's 50 MB, Discord's 10 MiB). PyAV and NumPy load on first use, not on import, so
the bot process stays small until a clip is actually too big."""

from __future__ import annotations


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


def _provenance(metadata: dict[str, str]) -> dict[str, str]:
    # Our keys carry over; the container's own (major_brand, encoder ...) are written anew.
    return {k: v for k, v in metadata.items() if k.startswith("clipcrew_") or k == "comment"}
