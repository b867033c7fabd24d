"""Storage's error tree. Messages are written for the person who will read them in a log."""


class StorageError(Exception):
    """Base of everything storage raises on purpose."""


class NotFound(StorageError):
    pass


class InvalidTransition(StorageError):
    """A job was asked to move between states the state machine does not connect."""


class BadBlobKey(StorageError):
    """A blob key that is not one this store made (and could point outside its folder)."""


class BadBlobConfig(StorageError, ValueError):
    """Blob storage settings that name no store this code can open (a ValueError, so settings
    validation reports it against the variable)."""


class BlobUnavailable(StorageError):
    """The blob store did not answer as it should (unreachable, refused, misconfigured)."""
