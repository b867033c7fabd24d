"""/verify in a direct message: "where did this video come from?", answered like
`clipcrew verify FILE`.

The bot itself never decodes video (it must not load PyAV, NumPy or c2pa): it stores the upload,
asks a light worker (engine.queue.VERIFY_VIDEO) and shows the lines it answers, the first of
which says whether and how the video matched. The upload is deleted afterwards, either way.
"""

from __future__ import annotations

import logging
from functools import partial

from bot.commands import VerifyUpload
from bot.deps import Deps
from bot.ports import ChatPort
from bot.replies import Note, Refused, Reply, refusal
from bot.tell import Where, after_checking
from engine.queue import VERIFY_VIDEO, LightTaskError
from storage.blobs import content_key

log = logging.getLogger(__name__)

# Telegram lets bots download files of up to 20 MB; posted clips are far smaller.
MAX_VERIFY_BYTES = 20_000_000
# Decoding a copy and looking it up takes a second or two; the rest is a busy light worker.
VERIFY_TIMEOUT_S = 60.0


def _too_large(size: int) -> Refused:
    return Refused(
        f"That video is {size / 1e6:.1f} MB; I can check videos of up to "
        f"{MAX_VERIFY_BYTES / 1e6:.0f} MB."
    )


async def verify_upload(deps: Deps, command: VerifyUpload) -> Note | Refused:
    """Trace the uploaded video to a clip; the answer's first line says which (or none)."""
    if command.size_bytes is not None and command.size_bytes > MAX_VERIFY_BYTES:
        return _too_large(command.size_bytes)
    if deps.light is None:
        return Refused("Checking videos isn't available on this bot right now.")
    video = await command.fetch()
    if len(video) > MAX_VERIFY_BYTES:
        return _too_large(len(video))
    if not video:
        return Refused("That video is empty: send the file itself with /verify.")
    # Blobs are stored by content: the original of a posted clip is that clip's own file,
    # which must stay. Only an upload this call stored is removed afterwards.
    kept_already = await deps.blobs.exists(content_key(video, "mp4"))
    key = await deps.blobs.put(video, "mp4")
    try:
        answer = await deps.light.call(VERIFY_VIDEO, {"video_key": key}, timeout_s=VERIFY_TIMEOUT_S)
    except LightTaskError as error:
        return refusal(error)
    finally:
        if not kept_already:
            await deps.blobs.delete(key)
    lines = [str(line) for line in answer.get("lines", ())]
    head = "✅ " if answer.get("matched") else "❔ "
    return Note(head + "\n".join(lines))


async def answer_verify(deps: Deps, port: ChatPort, command: VerifyUpload) -> Reply:
    """Say it is being checked, then replace that with the answer (or post it, where the
    platform cannot edit)."""
    return await after_checking(
        port,
        Where(command.chat, command.message),
        Note("🔍 Checking where that video came from…"),
        partial(verify_upload, deps, command),
        failure="Something went wrong while checking that video. Please try again.",
    )
