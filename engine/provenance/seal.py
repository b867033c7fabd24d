"""The worker's last step for a stored clip: sign it with its clip number, keep its fingerprint.

The clip number is the clip row's id, which exists only once the row is stored; the manifest
must name it and be written last (any remux drops it). So the worker stores the encoded file and
the row as before, then signs the file with the row's id, stores the signed file, points the row
at it and keeps the fingerprint, in one transaction, before it reports the job done. A worker
that dies in between leaves a playable unsigned clip, never a broken one.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path
from typing import Any

from engine.provenance.fingerprint import NotAVideo, fingerprint_mp4
from engine.provenance.manifest import ClipInfo, ClipSigner, ProvenanceError, sign_clip
from storage import clips, prints
from storage.blobs import Blobs
from storage.cameos import cameo_owners_of_clip
from storage.db import Database
from storage.errors import BadBlobKey, NotFound
from storage.models import Clip

log = logging.getLogger(__name__)

SKETCH_MODEL = "clipcrew sketch renderer"


def model_name(backend: Any) -> str:
    """The model a backend runs, for the manifest: a hub id, or a local folder's name only."""
    name = str(getattr(backend, "name", "") or "unknown")
    if name == "sketch":
        return SKETCH_MODEL
    pipeline = getattr(backend, "pipeline", None)
    path = str(getattr(pipeline, "name_or_path", "") or "")
    if not path:
        return name
    return Path(path).name if Path(path).exists() else path


async def seal(
    db: Database,
    blobs: Blobs,
    signer: ClipSigner | None,
    clip: Clip,
    data: bytes,
    *,
    model: str,
    fingerprint: bytes = b"",
) -> Clip:
    """Sign the stored `clip` (its file is `data`) and keep its fingerprint; returns the row as
    it now is. A signing failure is logged and leaves the clip unsigned but posted."""
    clip_id = clip.id
    assert clip_id is not None
    if not fingerprint:
        fingerprint = await _fingerprint(data)
    signed = await _sign(db, blobs, signer, clip, data, model=model)
    old_key = clip.blob_key
    new_key = await blobs.put(signed, "mp4") if signed is not None else old_key
    async with db.transaction() as session:
        if signed is not None:
            await clips.point_at(session, clip_id, new_key, size_bytes=len(signed))
            clip = clip.model_copy(update={"blob_key": new_key, "size_bytes": len(signed)})
        if fingerprint:
            await prints.add_print(session, clip_id, fingerprint, duration_s=clip.duration_s)
    if signed is not None and clip.blob_key != old_key:
        await clips.drop_blob_unless_used(db, blobs, old_key)
    return clip


async def seal_if_unsealed(
    db: Database, blobs: Blobs, signer: ClipSigner | None, clip: Clip, *, model: str
) -> Clip:
    """`seal` a stored clip that has no fingerprint yet (its worker died between storing and
    sealing it); a sealed clip is returned as it is."""
    assert clip.id is not None
    async with db.session() as session:
        if await prints.has_print(session, clip.id):
            return clip
    try:
        data = await blobs.read(clip.blob_key)
    except (NotFound, BadBlobKey):
        return clip  # nothing to sign; the clip is reported as it is
    return await seal(db, blobs, signer, clip, data, model=model)


async def _fingerprint(data: bytes) -> bytes:
    try:
        return (await asyncio.to_thread(fingerprint_mp4, data)).to_bytes()
    except NotAVideo:
        log.warning("clip has no picture to fingerprint")
        return b""


async def _sign(
    db: Database, blobs: Blobs, signer: ClipSigner | None, clip: Clip, data: bytes, *, model: str
) -> bytes | None:
    if signer is None:
        return None
    assert clip.id is not None
    async with db.session() as session:
        cameos = await cameo_owners_of_clip(session, clip.id)
        parent = await clips.parent_of(session, clip)
    info = ClipInfo(
        clip_id=clip.id,
        job_id=clip.job_id,
        engine=clip.engine,
        model=model,
        prompt_sha256=hashlib.sha256(clip.prompt.encode()).hexdigest(),
        cameos=tuple(sorted(owner.handle for owner in cameos)),
        parent_clip_id=clip.parent_id,
    )
    parent_data = None
    if parent is not None and not parent.deleted:
        try:
            parent_data = await blobs.read(parent.blob_key)
        except NotFound:
            log.warning("remix parent file missing", extra={"clip_id": clip.id})
    try:
        return await asyncio.to_thread(sign_clip, data, info, signer, parent=parent_data)
    except ProvenanceError:
        log.exception("could not sign clip", extra={"clip_id": clip.id})
        return None
