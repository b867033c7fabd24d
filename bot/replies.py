"""Replies: what the core answers, in platform-neutral terms. Each has a `text` that any adapter
can show as is; adapters with richer widgets (progress bars, buttons) render the fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import overload

from bot.callbacks import Button
from bot.errors import EmptyPrompt


@dataclass(frozen=True)
class Queued:
    job_id: str
    # Its place in line (storage.fairness order): 0 starts now, 3 is the third to start.
    position: int
    prompt: str
    remix_of: int | None = None
    # Seconds until the clip is likely done, from measured durations (None: nothing measured).
    eta_s: float | None = None

    @property
    def text(self) -> str:
        where = "starting now" if self.position == 0 else f"{ordinal(self.position)} in line"
        if self.eta_s is not None:
            where += f" · {about(self.eta_s)}"
        what = "Remixing" if self.remix_of else "Queued"
        return f"🎬 {what}: {self.prompt[:80]}{'…' if len(self.prompt) > 80 else ''} ({where})"

    @property
    def choices(self) -> tuple[Choice, ...]:
        return cancel_choices(self.job_id)


@dataclass(frozen=True)
class Progress:
    job_id: str
    percent: int
    stage: str
    # Seconds left, from measured durations and the render's own pace (None: no estimate).
    eta_s: float | None = None
    # A small JPEG of the picture as it forms (the engine's preview frame), if one came.
    preview: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        filled = self.percent // 10
        left = (
            f" · {about(self.eta_s)} left" if self.eta_s is not None and self.percent < 100 else ""
        )
        return f"{'▓' * filled}{'░' * (10 - filled)} {self.percent}% · {self.stage}{left}"

    @property
    def choices(self) -> tuple[Choice, ...]:
        return cancel_choices(self.job_id) if self.percent < 100 else ()


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st."""
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def about(seconds: float) -> str:
    """A rough time for people: "about 40 s", "about 2 min", "about 1 h 10 min"."""
    if seconds < 55:
        return f"about {max(5, round(seconds / 5) * 5)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h" + (f" {minutes} min" if minutes else "")


def cancel_choices(job_id: str) -> tuple[Choice, ...]:
    """The Cancel button of a job's status message (the core checks who presses it). Its id is
    the job id read as a hex number; a job id that is not hex gets none."""
    try:
        return (Choice("✖️ Cancel", Button(action="cancel", target_id=int(job_id, 16))),)
    except ValueError:
        return ()


@dataclass(frozen=True)
class ClipReady:
    job_id: str
    clip_id: int
    blob_key: str
    prompt: str
    author: str
    width: int
    height: int
    duration_s: float
    size_bytes: int
    parent_clip_id: int | None = None
    # Handles of the people whose cameos appear in the clip.
    cameos: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        lineage = f" (remix of #{self.parent_clip_id})" if self.parent_clip_id else ""
        featuring = f" featuring {', '.join(self.cameos)}" if self.cameos else ""
        return f"#{self.clip_id} “{self.prompt}” by {self.author}{featuring}{lineage}"


@dataclass(frozen=True)
class Failed:
    """Something went wrong with a job that was accepted. `reason` is written for the chat."""

    reason: str
    job_id: str | None = None

    @property
    def text(self) -> str:
        return f"⚠️ {self.reason}"


@dataclass(frozen=True)
class Refused:
    """A command the core would not accept (bad input, over quota). Nothing was recorded."""

    reason: str

    @property
    def text(self) -> str:
        return f"🙅 {self.reason}"


@overload
def refusal(error: Exception, *, then: str = "") -> Refused: ...


@overload
def refusal(error: Exception, *, command: str, then: str = "") -> Refused | Usage: ...


def refusal(error: Exception, *, command: str | None = None, then: str = "") -> Refused | Usage:
    """The one way an error becomes a reply. Errors the core raises on purpose (`BotError`, a
    DM the platform refuses, a light task's answer) carry the sentence the person reads; an
    empty prompt is answered with the usage of `command`. `then` adds what happened next."""
    if isinstance(error, EmptyPrompt) and command is not None:
        return Usage(command, note=str(error))
    return Refused(f"{error} {then}" if then else str(error))


@dataclass(frozen=True)
class Usage:
    command: str
    note: str = ""

    @property
    def text(self) -> str:
        lead = f"{self.note}\n\n" if self.note else ""
        return (
            f"{lead}Usage: /{self.command} <what should happen>\n"
            f'Example: /{self.command} a cat DJ at a rooftop party says "drop the beat"\n'
            '• Put dialogue in quotes; Name: "line" picks a speaker.\n'
            f"• Reply to a clip with /{self.command} <change> to remix it.\n"
            f"• Mention a friend (@name) to put their cameo in, with their OK.\n"
            "• /cameo records your own cameo and sets who may use it.\n"
            "• /feed shows this chat's clips; /remix 12 <change> remixes clip 12.\n"
            "• Chat admins: /admin sets what this chat allows, bans and daily limits."
        )


@dataclass(frozen=True)
class Deleted:
    clip_id: int

    @property
    def text(self) -> str:
        return f"🗑️ Clip #{self.clip_id} was deleted."


@dataclass(frozen=True)
class Choice:
    """A button under a note: its label, and the (unsigned) action the adapter signs."""

    label: str
    button: Button


@dataclass(frozen=True)
class Note:
    """Plain text, optionally with buttons: cameo enrollment steps, consent requests, the
    owner's lists and receipts, "waiting for approval". Most go to a direct message."""

    text: str
    choices: tuple[Choice, ...] = ()


Reply = Queued | Progress | ClipReady | Failed | Refused | Usage | Deleted | Note
