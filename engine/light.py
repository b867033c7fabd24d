"""Light tasks: short CPU work the bot asks for and waits on (checking a selfie, fitting a clip
under an upload limit, checking a prompt), on a queue of its own so it never waits behind a
minutes-long render.

`TASKS` names what a light worker can do. The bot calls them through `engine.queue.LightCalls`:
`ArqLight` hands the call to a light worker over Redis (`clipcrew worker --light`) and waits for
its answer; `InProcessLight` runs it in this process (`clipcrew serve`). Either way a failure
comes back as a sentence a person can read, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from arq.connections import ArqRedis
from arq.jobs import ResultNotFound, SerializationError
from redis.exceptions import RedisError

from engine.cameos import FaceModels
from engine.fit import FitRequest, fit_stored
from engine.metrics import LIGHT_TASK_SECONDS
from engine.moderation.task import moderate_text_task
from engine.provenance.manifest import ClipSigner
from engine.queue import (
    FIT_CLIP,
    MODERATE_TEXT,
    VERIFY_SELFIE,
    VERIFY_VIDEO,
    LightTaskFailed,
    LightTaskTimeout,
    Payload,
)
from engine.queue_backends import deserialize, redact_url, serialize
from engine.request import EngineError
from engine.selfies import SelfieCheck, check_selfie
from storage.blobs import Blobs
from storage.db import Database

__all__ = [
    "LIGHT_FAILURE",
    "RUN_LIGHT",
    "TASKS",
    "ArqLight",
    "InProcessLight",
    "LightContext",
    "LightTask",
    "light_queue_name",
    "run_task",
]

log = logging.getLogger(__name__)

# The one arq function a light worker registers; the task's name travels as its first argument.
RUN_LIGHT = "run_light"
LIGHT_FAILURE = "Something went wrong on my side. Please try again in a minute."
# How often the bot looks for a light task's answer: answers are expected within a second.
RESULT_POLL_S = 0.05


def light_queue_name(prefix: str) -> str:
    """The light tasks' arq queue, beside the renders' `<prefix>:queue`."""
    return f"{prefix}:light"


@dataclass(frozen=True)
class LightContext:
    """What light tasks share in one worker process: models load once, on first need."""

    db: Database
    blobs: Blobs
    faces: FaceModels
    # Closed with the context only when this context opened it (not in `clipcrew serve`).
    owns_db: bool = True
    # Signs refitted clips again (a re-encode drops the C2PA manifest); /verify trusts a
    # manifest only when it chains to this signer's anchors. None: clips are not signed.
    signer: ClipSigner | None = None


LightTask = Callable[[LightContext, Payload], Awaitable[Payload]]


async def _verify_selfie(ctx: LightContext, payload: Payload) -> Payload:
    return await check_selfie(ctx.db, ctx.blobs, ctx.faces, SelfieCheck.from_payload(payload))


async def _verify_video(ctx: LightContext, payload: Payload) -> Payload:
    # Imported here: it loads PyAV, NumPy and c2pa, which the bot process never needs.
    from engine.provenance.trace import verify_stored

    anchors = ctx.signer.anchors_pem if ctx.signer is not None else None
    return await verify_stored(ctx.db, ctx.blobs, str(payload["video_key"]), anchors)


async def _fit_clip(ctx: LightContext, payload: Payload) -> Payload:
    return await fit_stored(ctx.blobs, FitRequest.from_payload(payload), signer=ctx.signer)


TASKS: dict[str, LightTask] = {
    VERIFY_SELFIE: _verify_selfie,
    FIT_CLIP: _fit_clip,
    VERIFY_VIDEO: _verify_video,
    MODERATE_TEXT: moderate_text_task,
}


async def run_task(ctx: LightContext, task: str, payload: Payload) -> Payload:
    """Run one light task. Its failure becomes {"error": sentence}: plain data crosses the
    queue, exceptions do not (arq would pickle them)."""
    function = TASKS.get(task)
    if function is None:
        log.error("unknown light task", extra={"task": task})
        return {"error": LIGHT_FAILURE}
    began = time.monotonic()
    try:
        return await function(ctx, payload)
    except EngineError as error:
        log.info("light task refused", extra={"task": task, "reason": type(error).__name__})
        return {"error": str(error)}
    except Exception:
        log.exception("light task crashed", extra={"task": task})
        return {"error": LIGHT_FAILURE}
    finally:
        LIGHT_TASK_SECONDS.labels(task=task).observe(time.monotonic() - began)


def _answer(answer: Payload) -> Payload:
    if "error" in answer:
        raise LightTaskFailed(str(answer["error"]))
    return answer


def _no_answer(task: str, timeout_s: float) -> LightTaskTimeout:
    return LightTaskTimeout(
        f"I couldn't get that checked in time ({task} took over {timeout_s:g} s). "
        "Please try again in a minute."
    )


class InProcessLight:
    """Light tasks run right here, in this process (the embedded `clipcrew serve`)."""

    def __init__(self, context: LightContext) -> None:
        self.context = context

    async def call(self, task: str, payload: Payload, *, timeout_s: float) -> Payload:
        try:
            async with asyncio.timeout(timeout_s):
                answer = await run_task(self.context, task, payload)
        except TimeoutError:
            raise _no_answer(task, timeout_s) from None
        return _answer(answer)

    async def close(self) -> None:
        if self.context.owns_db:
            await self.context.db.close()


class ArqLight:
    """Light tasks handed to a light worker over Redis; the answer is arq's job result."""

    def __init__(self, pool: ArqRedis, *, prefix: str, where: str = "redis") -> None:
        self._pool = pool
        self._where = where
        self.name = light_queue_name(prefix)
        # msgpack, never pickle, on both sides (see engine.queue_backends.serialize).
        pool.job_serializer = serialize
        pool.job_deserializer = deserialize

    @classmethod
    def from_url(cls, url: str, *, prefix: str) -> ArqLight:
        return cls(ArqRedis.from_url(url), prefix=prefix, where=redact_url(url))

    async def call(self, task: str, payload: Payload, *, timeout_s: float) -> Payload:
        try:
            job = await self._pool.enqueue_job(
                RUN_LIGHT,
                task,
                payload,
                _queue_name=self.name,
                # Nobody waits for an answer after the timeout: a late worker skips the task.
                _expires=timedelta(seconds=timeout_s),
            )
            assert job is not None  # arq gives None only for a repeated _job_id; none is set
            answer = await job.result(timeout=timeout_s, poll_delay=RESULT_POLL_S)
        except (TimeoutError, ResultNotFound, SerializationError):
            # SerializationError: arq's own failure for a task that expired unstarted (every
            # light worker was busy for the whole wait), written as text by our serializer.
            raise _no_answer(task, timeout_s) from None
        except RedisError as error:
            log.warning("light queue unreachable", extra={"where": self._where})
            raise LightTaskFailed(
                "I can't reach my workers right now. Please try again in a minute."
            ) from error
        if not isinstance(answer, dict):
            raise LightTaskFailed(LIGHT_FAILURE)
        return _answer(answer)

    async def close(self) -> None:
        await self._pool.aclose()
