"""The worker's bookkeeping in storage: claiming jobs (fairly) and recording their clips.

A worker runs several jobs side by side (arq's max_jobs), and each claim and each finish is a
transaction; they are grouped (storage.batching) so that jobs finishing together share one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from storage import fair_claims
from storage import jobs as job_rows
from storage.batching import Batcher
from storage.db import Database
from storage.models import Clip, utcnow


@dataclass(frozen=True)
class Start:
    """What a worker found when it came for a job: the claim, or the clip it already has."""

    claimed: job_rows.Claimed | None
    existing: Clip | None


async def claim_batch(
    db: Database, job_ids: list[str], *, worker: str | None = None, lease_s: float = 60.0
) -> list[Start | Exception]:
    """One turn per job id. A carried job running under a lapsed lease (its worker was lost,
    and it was enqueued again) is taken over by its own turn; every other turn claims the
    fairest queued job (storage.fairness), which need not be the id the queue carried. Every
    queued job was enqueued once, so turns and jobs still match; a turn whose id is gone,
    cancelled or taken by an earlier turn passes to whichever job is fairest now. A turn that
    finds nothing reports the carried job's clip again if it has one (a duplicate delivery).
    A running job under a live lease is never claimed: another worker is rendering it."""
    until = utcnow() + timedelta(seconds=lease_s)
    async with db.transaction() as session:
        taken = await fair_claims.take_over(session, job_ids, worker=worker, lease_until=until)
        turns = len(job_ids) - len(taken)
        fair = await fair_claims.claim_fairest(session, turns, worker=worker, lease_until=until)
        claimed = [*taken, *fair]
        idle = [job_id for job_id in job_ids if job_id not in {c.job.id for c in taken}]
        idle = idle[len(fair) :]
        existing = await job_rows.clips_for_jobs(session, idle) if idle else {}
    results: list[Start | Exception] = [Start(claimed=c, existing=None) for c in claimed]
    for job_id in idle:
        # The same id twice among idle turns (a duplicate delivery): it reports once.
        results.append(Start(claimed=None, existing=existing.pop(job_id, None)))
    return results


async def store_batch(
    db: Database, clips: list[Clip], *, worker: str | None = None
) -> list[Clip | Exception | None]:
    try:
        async with db.transaction() as session:
            return list(await job_rows.store_clips(session, clips, worker=worker))
    except IntegrityError:
        if len(clips) == 1:
            raise
    # One of them clashed (its job has a clip already): store one at a time so the rest land.
    results: list[Clip | Exception | None] = []
    for clip in clips:
        try:
            async with db.transaction() as session:
                results.extend(await job_rows.store_clips(session, [clip], worker=worker))
        except IntegrityError as error:
            results.append(error)
    return results


@dataclass(frozen=True)
class Ledger:
    claim: Batcher[str, Start]
    # None: the job was cancelled while it rendered, and its clip was not kept.
    store: Batcher[Clip, Clip | None]

    @classmethod
    def over(cls, db: Database, *, worker: str, lease_s: float) -> Ledger:
        """The bookkeeping of one worker: its claims are leased to it for `lease_s`."""
        return cls(
            claim=Batcher(lambda ids: claim_batch(db, ids, worker=worker, lease_s=lease_s)),
            store=Batcher(lambda clips: store_batch(db, clips, worker=worker)),
        )
