"""A core that answers cameo business the way `bot.service.Core` does at its edges (a DM, a
"check your DMs" note in the channel, a reply to the selfie, an answer to a consent press), and
records every command, so the adapter's side can be tested on its own."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.commands import AnswerConsent, CameoCommand, Command, SelfieUpload
from bot.ports import ChatPort
from bot.replies import Note, Reply

SENT_A_DM = Note("📬 I sent you a direct message.")
APPROVED = Note("✅ Approved once.")
NOTED = Note("Noted.")


@dataclass(frozen=True)
class Suggestion:
    label: str
    user_id: str


@dataclass
class CameoCore:
    port: ChatPort | None = None
    commands: list[Command] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    typed: list[tuple[str, str]] = field(default_factory=list)
    # What each SelfieUpload's `fetch` gave.
    fetched: list[bytes] = field(default_factory=list)
    consent_answer: Note = APPROVED

    def attach(self, port: ChatPort) -> None:
        self.port = port

    async def suggest_cameos(self, *, platform: str, typed: str) -> list[Suggestion]:
        self.typed.append((platform, typed))
        return [s for s in self.suggestions if typed.lower() in s.label.lower()]

    async def handle(self, command: Command) -> Reply:
        assert self.port is not None, "attach() was never called"
        self.commands.append(command)
        if isinstance(command, SelfieUpload):
            self.fetched.append(await command.fetch())
            reply = Note(f"🎞️ Got your selfie ({command.size_bytes} bytes).")
            await self.port.post(command.chat, reply, reply_to=command.message)
            return reply
        if isinstance(command, CameoCommand):
            sent = await self.port.dm(command.author, Note(f"Cameo: {command.args or 'enroll'}"))
            if sent.chat.chat_id != command.chat.chat_id:  # not asked in the DM itself
                await self.port.post(command.chat, SENT_A_DM, reply_to=command.message)
            return SENT_A_DM
        if isinstance(command, AnswerConsent):
            return self.consent_answer
        # e.g. a Generate: only what the adapter built matters here.
        await self.port.post(command.chat, NOTED, reply_to=command.message)
        return NOTED
