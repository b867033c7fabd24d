"""`clipcrew verify FILE`: where did this video come from?

It prints one line that says whether and how the file matched (`match: C2PA manifest ...`,
`match: fingerprint ...` or `no match: ...`), then what is known of the clip: its number, chat,
author, date and cameos (a deleted clip: only that clipcrew made it, and when). Exit status 0 on
a match, 1 when nothing matches, 2 when the file cannot be read.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from clipcrew.config import provenance_config
from clipcrew.settings import Settings

# Larger files are not clips this bot posted (chat platforms cap uploads at 50 MB).
MAX_BYTES = 200 * 1024 * 1024


def run_verify(settings: Settings, args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            print(f"clipcrew: {path} is {size:,} bytes, too big to be a clip", file=sys.stderr)
            return 2
        data = path.read_bytes()
    except OSError as error:
        print(f"clipcrew: cannot read {path}: {error.strerror or error}", file=sys.stderr)
        return 2
    matched, lines = asyncio.run(verify_bytes(settings, data))
    print("\n".join(lines), flush=True)
    return 0 if matched else 1


async def verify_bytes(settings: Settings, data: bytes) -> tuple[bool, list[str]]:
    """(matched, the lines to show) for a video's bytes, against this deployment's clips."""
    from engine.provenance.manifest import trust_anchors
    from engine.provenance.trace import verify_video
    from storage.db import connect
    from storage.migrate import upgrade

    database = connect(settings.db_url)
    try:
        await upgrade(database)
        anchors = trust_anchors(provenance_config(settings))
        verdict = await verify_video(data, database, anchors_pem=anchors or None)
    finally:
        await database.close()
    return verdict.matched, verdict.lines()
