"""The core's error tree. `str(error)` is the sentence the person in the chat reads."""

# What a person reads when something broke that they cannot fix (the details go to the log).
SOMETHING_WRONG = "Something went wrong handling that. It has been logged."


class BotError(Exception):
    """Base of everything the core refuses on purpose."""


class EmptyPrompt(BotError):
    def __init__(self) -> None:
        super().__init__("Tell me what should happen in the clip.")


class PromptTooLong(BotError):
    def __init__(self, length: int, limit: int) -> None:
        super().__init__(
            f"That prompt is {length:,} characters long; the limit is {limit:,}. "
            "Trim it and try again."
        )


class ControlCharacters(BotError):
    def __init__(self) -> None:
        super().__init__(
            "That prompt contains invisible control characters. Retype it as plain text and "
            "try again."
        )


class BrokenText(BotError):
    def __init__(self) -> None:
        # Lone UTF-16 halves: a broken client or a cut-off paste; no database can store them.
        super().__init__(
            "Part of that prompt is garbled (broken characters). Retype it as plain text and "
            "try again."
        )


class TooManyJobs(BotError):
    def __init__(self, limit: int) -> None:
        clips = "clip" if limit == 1 else "clips"
        super().__init__(
            f"You already have {limit} {clips} cooking. Wait for one to finish, then try again."
        )


class ClipGone(BotError):
    def __init__(self) -> None:
        super().__init__("That clip was deleted, so it can't be remixed.")


class EngineUnavailable(BotError):
    def __init__(self) -> None:
        super().__init__(
            "The clip generator is unavailable right now. Nothing was queued; "
            "try again in a minute."
        )
