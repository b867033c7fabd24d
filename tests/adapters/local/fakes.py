"""A stand-in for the *other* side of the adapter (the core), and a real little video.

The fake core does what `bot.service.Core` does at the port: it answers a command by posting
through the port it was attached to (a cameo command by a direct message, a selfie by reading it
and answering in the private chat, a consent press by editing the request). Job events are then
played by the tests themselves, calling the port as the core's event loop would.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np

from bot.commands import AnswerConsent, CameoCommand, Command, Generate, SelfieUpload
from bot.ports import ChatPort
from bot.replies import Note, Queued, Reply, Usage
from bot.types import MessageRef


@dataclass
class RecordingCore:
    port: ChatPort | None = None
    commands: list[Command] = field(default_factory=list)
    statuses: list[MessageRef] = field(default_factory=list)
    fail_with: Exception | None = None
    # What each SelfieUpload's fetch returned (or raised).
    fetched: list[bytes | Exception] = field(default_factory=list)

    def attach(self, port: ChatPort) -> None:
        self.port = port

    async def handle(self, command: Command) -> Reply:
        assert self.port is not None, "attach() was never called"
        self.commands.append(command)
        if self.fail_with is not None:
            raise self.fail_with
        reply: Reply
        if isinstance(command, CameoCommand):
            reply = Note("Your code is 1234. Send a selfie video saying it.")
            await self.port.dm(command.author, reply)
            return reply
        if isinstance(command, SelfieUpload):
            return await self._selfie(command)
        if isinstance(command, AnswerConsent):
            reply = Note(f"You answered {command.answer}.")
            if command.message is not None:
                await self.port.edit(command.message, reply)
            return reply
        if isinstance(command, Generate) and command.prompt.strip():
            reply = Queued(job_id=f"job-{len(self.commands)}", position=0, prompt=command.prompt)
            status = await self.port.post(command.chat, reply, reply_to=command.message)
            self.statuses.append(status)
            return reply
        reply = Usage("sora", note="" if isinstance(command, Generate) else "Unknown command.")
        await self.port.post(command.chat, reply, reply_to=command.message)
        return reply

    async def _selfie(self, upload: SelfieUpload) -> Reply:
        """Reads the video whatever its stated size, so the adapter's own cap is what's tested."""
        assert self.port is not None
        try:
            video = await upload.fetch()
        except Exception as error:
            self.fetched.append(error)
            raise
        self.fetched.append(video)
        reply = Note(f"Got {len(video)} bytes.")
        await self.port.post(upload.chat, reply, reply_to=upload.message)
        return reply


def tiny_mp4(frames: int = 12, size: int = 64) -> bytes:
    """A real H.264 MP4 (half a second of colour ramps) that a browser can play."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, 24)
        for index in range(frames):
            pixels = np.full((size, size, 3), (index * 20) % 256, dtype=np.uint8)
            pixels[:, : size // 2, 1] = 200
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()
