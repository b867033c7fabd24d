"""Tracing a video back to its clip: `clipcrew verify FILE` and the chats' /verify.

First the C2PA manifest: one that is valid and signed by a certificate this clipcrew trusts
names its clip. Chat apps strip manifests, so otherwise the fingerprint of the picture and the
sound is looked up among every posted clip's (deleted ones included, as tombstones).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.provenance.fingerprint import Fingerprint, NotAVideo, fingerprint_mp4
from engine.provenance.manifest import ManifestReport, read_manifest
from engine.provenance.matching import Similarity, best_match
from storage import prints
from storage.errors import BadBlobKey, NotFound
from storage.prints import ClipStory

if TYPE_CHECKING:
    from engine.queue import Payload
    from storage.blobs import Blobs
    from storage.db import Database

TRAINED = "trainedAlgorithmicMedia"


@dataclass(frozen=True)
class Verdict:
    """What a video turned out to be. `lines()[0]` says whether and how it matched."""

    how: str  # "manifest", "fingerprint" or "none"
    clip_id: int | None = None
    story: ClipStory | None = None
    manifest: ManifestReport | None = None
    similarity: Similarity | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def matched(self) -> bool:
        return self.how != "none"

    def lines(self) -> list[str]:
        if self.how == "manifest" and self.manifest is not None:
            state = "trusted" if self.manifest.trusted else "valid"
            head = f"match: C2PA manifest, clipcrew clip #{self.clip_id} (signature {state})"
        elif self.how == "fingerprint" and self.similarity is not None:
            head = (
                f"match: fingerprint, clipcrew clip #{self.clip_id} "
                f"({_similarity(self.similarity)})"
            )
        else:
            head = "no match: no valid clipcrew C2PA manifest and no fingerprint match"
        return [head, *_story(self.story), *_manifest(self.manifest), *self.notes]


def _similarity(similarity: Similarity) -> str:
    text = f"picture {similarity.video:.0%} of bits differ"
    if similarity.audio is not None:
        text += f", sound {similarity.audio:.0%}"
    return text + f", from {similarity.offset_s:.1f} s of the original"


def _story(story: ClipStory | None) -> list[str]:
    if story is None:
        return []
    date = story.created_at.strftime("%Y-%m-%d %H:%M UTC")
    if story.deleted:
        return [f"made by clipcrew on {date}, since deleted"]
    lines = [
        f"clip: #{story.clip_id}",
        f"chat: {story.chat} ({story.platform})",
        f"author: {story.author}",
        f"date: {date}",
        f"cameos: {', '.join(story.cameos) if story.cameos else 'none'}",
    ]
    if story.parent_id is not None:
        lines.append(f"remix of: clip #{story.parent_id}")
    return lines


def _manifest(report: ManifestReport | None) -> list[str]:
    if report is None:
        return []
    sources = ", ".join(s.rsplit("/", 1)[-1] for s in report.source_types) or "none"
    lines = [
        f"c2pa: {report.title!r} signed by {report.issuer or 'unknown'}, state {report.state}",
        f"c2pa actions: {', '.join(report.actions) or 'none'} (source type: {sources})",
    ]
    if report.ingredients:
        lines.append(f"c2pa ingredients: {'; '.join(report.ingredients)}")
    if report.clip is not None:
        lines.append(
            f"c2pa clip: engine {report.clip.engine}, model {report.clip.model}, "
            f"prompt sha256 {report.clip.prompt_sha256[:16]}…"
        )
    return lines


async def verify_video(data: bytes, db: Database, *, anchors_pem: bytes | None) -> Verdict:
    """Trace `data` (any video file) to a clip in `db`. `anchors_pem` are the certificates this
    clipcrew signs under (its own CA, or the operator's chain)."""
    report = await asyncio.to_thread(read_manifest, data, anchors_pem)
    if report is not None and report.trusted and report.clip is not None:
        clip_id = report.clip.clip_id
        story = await _story_of(db, clip_id) if clip_id is not None else None
        return Verdict("manifest", clip_id=clip_id, story=story, manifest=report)
    notes = _manifest_notes(report)
    try:
        copy = await asyncio.to_thread(fingerprint_mp4, data)
    except NotAVideo as error:
        return Verdict("none", manifest=report, notes=(*notes, str(error)))
    found = await lookup(db, copy)
    if found is None:
        return Verdict("none", manifest=report, notes=notes)
    clip_id, similarity = found
    story = await _story_of(db, clip_id)
    return Verdict("fingerprint", clip_id, story, report, similarity, notes)


async def verify_stored(
    db: Database, blobs: Blobs, video_key: str, anchors_pem: bytes | None
) -> Payload:
    """The light task behind /verify: the uploaded video (stored under `video_key`) traced as
    `clipcrew verify` does; the answer holds whether it matched and the lines to show."""
    try:
        data = await blobs.read(video_key)
    except (NotFound, BadBlobKey) as error:
        raise NotAVideo("I could not find that video any more: please send it again.") from error
    verdict = await verify_video(data, db, anchors_pem=anchors_pem)
    return {"matched": verdict.matched, "lines": verdict.lines()}


def _manifest_notes(report: ManifestReport | None) -> tuple[str, ...]:
    if report is None:
        return ("no C2PA manifest in the file (chat apps strip it)",)
    if not report.valid:
        return (f"the C2PA manifest does not check out ({', '.join(report.failures)})",)
    if not report.trusted:
        return ("the C2PA manifest is valid but not signed by this clipcrew's certificate",)
    return ("the C2PA manifest carries no clipcrew clip",)


async def lookup(db: Database, copy: Fingerprint) -> tuple[int, Similarity] | None:
    """The clip whose fingerprint `copy` matches best, or None."""
    best: tuple[int, Similarity] | None = None
    async with db.session() as session:
        async for page in prints.pages(session):
            originals = [(row.clip_id, Fingerprint.from_bytes(row.data)) for row in page]
            found = await asyncio.to_thread(best_match, copy, originals)
            if found is not None and (best is None or found[1].video < best[1].video):
                best = found
    return best


async def _story_of(db: Database, clip_id: int) -> ClipStory | None:
    async with db.session() as session:
        return await prints.clip_story(session, clip_id)
