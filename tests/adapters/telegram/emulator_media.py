"""The emulator's photo messages, as Telegram has them: sendPhoto, editMessageMedia (a media
message's picture swapped in place; a text message cannot get one), editMessageCaption, and a
text edit of a photo message refused. Every uploaded picture is kept, so a test can look."""

from __future__ import annotations

from typing import Any

from tests.adapters.telegram.emulator_wire import ApiError

Json = dict[str, Any]

NO_MEDIA = "Bad Request: there is no media in the message to edit"
NO_TEXT = "Bad Request: there is no text in the message to edit"
NO_CAPTION = "Bad Request: there is no caption in the message to edit"
MEDIA_KINDS = ("photo", "video", "animation", "document", "audio")


class Media:
    """Mixed into the emulator's BotApi; `files_in_call` holds the current call's uploads."""

    files_in_call: dict[str, bytes]

    def _bot_message(self, params: Json, **content: Any) -> Json:  # BotApi's
        raise NotImplementedError

    def _stored(self, params: Json) -> Json:  # BotApi's
        raise NotImplementedError

    def __init__(self) -> None:
        self.files_in_call = {}
        # Every picture the bot uploaded (sendPhoto, editMessageMedia), in order.
        self.photos: list[bytes] = []

    def _send_photo(self, params: Json) -> Json:
        photo = self._photo(self.files_in_call.get("photo"))
        return self._bot_message(params, photo=photo, caption=params.get("caption", ""))

    def _edit_message_media(self, params: Json) -> Json:
        message = self._stored(params)
        if not any(kind in message for kind in MEDIA_KINDS):
            raise ApiError(400, NO_MEDIA)
        media = params["media"]
        attached = str(media.get("media", "")).removeprefix("attach://")
        if media.get("type") != "photo" or attached not in self.files_in_call:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        for kind in MEDIA_KINDS:
            message.pop(kind, None)
        message["photo"] = self._photo(self.files_in_call[attached])
        message["caption"] = media.get("caption", "")
        _keyboard(message, params)
        return message

    def _edit_message_caption(self, params: Json) -> Json:
        message = self._stored(params)
        if "text" in message:
            raise ApiError(400, NO_CAPTION)
        message["caption"] = params.get("caption", "")
        _keyboard(message, params)
        return message

    def _photo(self, data: bytes | None) -> list[Json]:
        if data is None:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        self.photos.append(data)
        n = len(self.photos)
        return [{"file_id": f"photo-{n}", "file_unique_id": f"p{n}", "width": 256, "height": 256}]


def _keyboard(message: Json, params: Json) -> None:
    # Telegram drops an inline keyboard that the edit does not send again.
    if "inline_keyboard" in params.get("reply_markup", {}):
        message["reply_markup"] = params["reply_markup"]
    else:
        message.pop("reply_markup", None)
