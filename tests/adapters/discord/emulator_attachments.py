"""Attachments edited on a message, as Discord has them: the edit's `attachments` list is what
the message keeps (existing ones by id) or gets (new ones by the index of an uploaded
`files[n]` part); an empty list removes them all. Every new upload is kept for tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.adapters.discord import payloads as p

if TYPE_CHECKING:
    from tests.adapters.discord.emulator import Emulator

Json = dict[str, Any]


def edited_attachments(
    emu: Emulator, message: Json, data: Json, files: dict[str, bytes]
) -> list[Json]:
    existing = {str(a["id"]): a for a in message.get("attachments", [])}
    shown: list[Json] = []
    for described in data["attachments"]:
        kept = existing.get(str(described.get("id")))
        if kept is not None:
            shown.append(kept)
            continue
        upload = files.get(f"files[{described.get('id')}]")
        if upload is None:
            raise ValueError(f"attachment {described!r} names no uploaded file")
        attachment_id = str(p.snowflake())
        name = described.get("filename", "file")
        url = f"https://cdn.discordapp.test/attachments/{attachment_id}/{name}"
        shown.append(
            {
                "id": attachment_id,
                "filename": name,
                "size": len(upload),
                "url": url,
                "proxy_url": url,
            }
        )
        emu.edited_uploads.append((message["id"], name, upload))
    emu.record("attachments", message["id"], [a["filename"] for a in shown])
    return shown
