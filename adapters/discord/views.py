"""The buttons (a clip's, and a note's such as a cameo consent request) and the remix modal.

A button's custom id is `cc:` and a payload signed by `bot.callbacks` (action, id, and for clip
buttons a signature over the channel), so a press works after a restart and can't be forged or
copied to another channel. The buttons are `DynamicItem`s: discord.py routes any press whose
custom id matches the template here, whichever process posted the message.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol, runtime_checkable

import discord

from bot.callbacks import Action, Button, sign
from bot.errors import SOMETHING_WRONG
from bot.replies import Note

log = logging.getLogger(__name__)

BUTTON_PREFIX = "cc:"
MODAL_PREFIX = "ccm:"
# Discord's own cap on a text input; the core refuses prompts over its (smaller) limit with a
# readable reason, which beats a modal that silently truncates.
MODAL_MAX_CHARS = 4000
# Discord cuts a button label at 80 characters.
LABEL_MAX = 80
_LOOKS = {
    "remix": ("Remix", "🎛️", discord.ButtonStyle.primary),
    "reroll": ("Reroll", "🎲", discord.ButtonStyle.secondary),
    "delete": ("Delete", "🗑️", discord.ButtonStyle.danger),
    # The consent buttons carry the core's own labels (Approve once, Always allow @bob, Deny).
    "approve": ("Approve", None, discord.ButtonStyle.success),
    "always": ("Always allow", None, discord.ButtonStyle.primary),
    "deny": ("Deny", None, discord.ButtonStyle.danger),
    # The feed: paging buttons under /feed (labelled by the core), and ❤️ where it is shown.
    "feed": ("More", None, discord.ButtonStyle.secondary),
    "like": ("Like", "❤️", discord.ButtonStyle.secondary),
    # Cancel a waiting or rendering clip (its requester, or an admin under /admin queue).
    "cancel": ("Cancel", "✖️", discord.ButtonStyle.danger),
}
ACTIONS: tuple[Action, ...] = ("remix", "reroll", "delete")


@runtime_checkable
class Presses(Protocol):
    """What the buttons and the modal call; `Actions` in actions.py."""

    async def on_button(self, interaction: discord.Interaction, payload: str) -> None: ...

    async def on_remix_submit(
        self, interaction: discord.Interaction, payload: str, prompt: str
    ) -> None: ...


def presses_of(interaction: discord.Interaction) -> Presses:
    presses = getattr(interaction.client, "presses", None)
    if not isinstance(presses, Presses):
        raise RuntimeError("the Discord client has no `presses` handler attached")
    return presses


class SignedButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=re.compile(re.escape(BUTTON_PREFIX) + r"(?P<payload>[a-z]{2}:\d+:[A-Za-z0-9_-]+)"),
):
    def __init__(self, payload: str, action: Action = "remix", label: str | None = None) -> None:
        default_label, emoji, style = _LOOKS[action]
        super().__init__(
            discord.ui.Button(
                label=label or default_label,
                emoji=None if label else emoji,
                style=style,
                custom_id=BUTTON_PREFIX + payload,
            )
        )
        self.payload = payload

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SignedButton:
        return cls(match["payload"])

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await presses_of(interaction).on_button(interaction, self.payload)
        except Exception:
            # The core answers in the chat itself; reaching here is a bug the presser should
            # hear about rather than watch "thinking…" forever.
            log.exception("discord: a button press failed")
            await tell_privately(interaction, SOMETHING_WRONG)


def clip_view(clip_id: int, *, chat_id: str, secret: bytes) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in ACTIONS:
        payload = sign(Button(action, clip_id), chat_id=chat_id, secret=secret)
        view.add_item(SignedButton(payload, action))
    return view


def note_view(note: Note, *, chat_id: str, secret: bytes) -> discord.ui.View | None:
    """A note's choices as buttons, signed for the channel the note goes to (consent buttons
    are signed for any channel); None when it has none."""
    if not note.choices:
        return None
    view = discord.ui.View(timeout=None)
    for choice in note.choices:
        payload = sign(choice.button, chat_id=chat_id, secret=secret)
        view.add_item(SignedButton(payload, choice.button.action, choice.label[:LABEL_MAX]))
    return view


def signed_payloads(message: discord.Message) -> list[str]:
    """The signed payloads on a message's buttons (one of our clips has three)."""
    found: list[str] = []
    for row in message.components:
        for child in getattr(row, "children", ()):
            custom_id = getattr(child, "custom_id", None) or ""
            if custom_id.startswith(BUTTON_PREFIX):
                found.append(custom_id.removeprefix(BUTTON_PREFIX))
    return found


class RemixModal(discord.ui.Modal, title="Remix clip"):
    """Asks for the new prompt. Its custom id carries the signed remix payload, checked again
    on submit, so the modal can't be pointed at another clip."""

    prompt: discord.ui.TextInput[RemixModal] = discord.ui.TextInput(
        label="What should change?",
        style=discord.TextStyle.paragraph,
        placeholder="e.g. make it rain, and the cat wears sunglasses",
        max_length=MODAL_MAX_CHARS,
    )

    def __init__(self, payload: str) -> None:
        # A modal nobody submits within 15 minutes is gone on Discord's side too.
        super().__init__(custom_id=MODAL_PREFIX + payload, timeout=15 * 60)
        self.payload = payload

    async def on_submit(self, interaction: discord.Interaction) -> None:
        try:
            await presses_of(interaction).on_remix_submit(
                interaction, self.payload, self.prompt.value
            )
        except Exception:
            log.exception("discord: a remix submit failed")
            await tell_privately(interaction, SOMETHING_WRONG)


async def tell_privately(interaction: discord.Interaction, text: str) -> None:
    """An ephemeral answer, whether or not the interaction was acknowledged yet."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("discord: could not tell the person about an error")
