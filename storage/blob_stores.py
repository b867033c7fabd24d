"""Opening the blob store a config names: the local folder, or an S3-compatible bucket.

Both stores answer `storage.blobs.Blobs`; only this function knows there are two.
"""

from __future__ import annotations

from storage.blobs import BlobConfig, Blobs, BlobStore


def open_blobs(config: BlobConfig) -> Blobs:
    """The store `config` names: an S3 bucket when it has a URL, else the local folder."""
    if config.url is None:
        return BlobStore(config.folder)
    # Imported here for weight, not to dodge a cycle (storage.s3_blobs never imports this
    # module): the S3 client loads only in processes that are configured to use a bucket.
    from storage.s3_blobs import S3Blobs

    return S3Blobs.open(config)
