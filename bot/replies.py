"""Replies: what the core answers, in platform-neutral terms. Each has a `text` that any adapter
can show as is; adapters with richer widgets (progress bars, buttons) render the fields."""

from __future__ import annotations

from dataclasses import dataclass

from bot.callbacks import Button


@dataclass(frozen=True)
class Queued:
    job_id: str
    # How many jobs are ahead of this one (0: it starts now).
    position: int
    prompt: str
    remix_of: int | None = None

    @property
    def text(self) -> str:
        where = "starting now" if self.position == 0 else f"{self.position} ahead of you"
        what = "Remixing" if self.remix_of else "Queued"
        return f"🎬 {what}: {self.prompt[:80]}{'…' if len(self.prompt) > 80 else ''} ({where})"


@dataclass(frozen=True)
class Progress:
    job_id: str
    percent: int
    stage: str

    @property
    def text(self) -> str:
        filled = self.percent // 10
        return f"{'▓' * filled}{'░' * (10 - filled)} {self.percent}% · {self.stage}"


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
            "• /cameo records your own cameo and sets who may use it."
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
