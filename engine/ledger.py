"""The worker's bookkeeping in storage: claiming jobs and recording their clips.

A worker runs several jobs side by side (arq's max_jobs), and each claim and each finish is a
transaction; they are grouped (storage.batching) so that jobs finishing together share one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from storage import jobs as job_rows
from storage.batching import Batcher
from storage.db import Database
from storage.errors import NotFound
from storage.models import Clip


@dataclass(frozen=True)
class Start:
    """What a worker found when it came for a job: the claim, or the clip it already has."""

    claimed: job_rows.Claimed | None
    existing: Clip | None


async def claim_batch(db: Database, job_ids: list[str]) -> list[Start | Exception]:
    async with db.transaction() as session:
        claimed = await job_rows.claim_many(session, job_ids)
        # A clip is stored in the same transaction that finishes its job, so only a job that
        # could not be claimed can already have one.
        unclaimed = [job_id for job_id in job_ids if job_id not in claimed]
        existing = await job_rows.clips_for_jobs(session, unclaimed) if unclaimed else {}
        known = await job_rows.existing_ids(session, unclaimed) if unclaimed else set()
    known |= set(claimed)
    results: list[Start | Exception] = []
    for job_id in job_ids:
        if job_id not in known:
            results.append(NotFound(f"job {job_id} does not exist"))
            continue
        # The same id twice in one batch (a duplicate delivery): only the first one runs.
        results.append(Start(claimed=claimed.pop(job_id, None), existing=existing.get(job_id)))
    return results


async def store_batch(db: Database, clips: list[Clip]) -> list[Clip | Exception | None]:
    try:
        async with db.transaction() as session:
            return list(await job_rows.store_clips(session, clips))
    except IntegrityError:
        if len(clips) == 1:
            raise
    # One of them clashed (its job has a clip already): store one at a time so the rest land.
    results: list[Clip | Exception | None] = []
    for clip in clips:
        try:
            async with db.transaction() as session:
                results.extend(await job_rows.store_clips(session, [clip]))
        except IntegrityError as error:
            results.append(error)
    return results


@dataclass(frozen=True)
class Ledger:
    claim: Batcher[str, Start]
    # None: the job was cancelled while it rendered, and its clip was not kept.
    store: Batcher[Clip, Clip | None]

    @classmethod
    def over(cls, db: Database) -> Ledger:
        return cls(
            claim=Batcher(lambda ids: claim_batch(db, ids)),
            store=Batcher(lambda clips: store_batch(db, clips)),
        )
