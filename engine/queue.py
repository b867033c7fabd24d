"""The queue interface the bot uses: enqueue a render job id, or call a short light task.

Implementations live in engine.queue_backends (render jobs) and engine.light (light tasks).
Renders take minutes on a GPU worker; light tasks (checking a selfie, fitting a clip under an
upload limit, checking a prompt) take a second or two on a CPU and run on their own queue and
worker pool, so they never wait behind a render.
"""

from __future__ import annotations

from typing import Any, Protocol

# The light tasks, by name; the bot calls them and a light worker registers them (engine.light).
VERIFY_SELFIE = "verify_selfie"
FIT_CLIP = "fit_clip"
MODERATE_TEXT = "moderate_text"
# /verify in a DM: {"video_key": blob key of the uploaded video} -> {"matched": bool, "lines":
# [str, ...]}, the same lines `clipcrew verify` prints (engine.provenance.trace).
VERIFY_VIDEO = "verify_video"

# A light task's payload and answer: plain data (msgpack on the wire), never objects.
Payload = dict[str, Any]


class JobQueue(Protocol):
    async def enqueue(self, job_id: str, *, attempt: int = 0) -> bool:
        """Queue `job_id`; False if it is already queued (a second enqueue is a no-op).
        `attempt` > 0 queues a job again after its worker was lost, beside the lost run's
        message, which the queue still holds as in progress."""
        ...

    async def close(self) -> None: ...


class LightCalls(Protocol):
    async def call(self, task: str, payload: Payload, *, timeout_s: float) -> Payload:
        """Run light task `task` on a light worker and return its answer.

        Raises LightTaskFailed with a sentence a person can read when the task refused or
        crashed, and LightTaskTimeout when no answer came within `timeout_s`."""
        ...

    async def close(self) -> None: ...


class QueueError(Exception):
    """Base of the queue's errors; `str(error)` is readable and never holds a password."""


class QueueClosed(QueueError):
    """The queue was closed; nothing more can be enqueued on it."""


class QueueUnavailable(QueueError):
    """The queue's Redis server could not be reached."""


class LightTaskError(Exception):
    """Base of the light tasks' errors; `str(error)` is a sentence a person can read."""


class LightTaskFailed(LightTaskError):
    """The task ran and failed; the message says why in plain words."""


class LightTaskTimeout(LightTaskError):
    """No light worker answered in time (none running, or all busy)."""
