"""How often a chat-style copy is traced to the right clip, and how often anything else is.

    .venv/bin/python bench/verify.py [--clips 50] [--width 512] [--height 512] [--fps 24]

Renders `--clips` sketch clips (5 s, varied prompts, two seeds each) and keeps each one's
fingerprint exactly as the worker does (from the frames and sound in memory). Each clip is then
copied the way a chat app does it (longer side 480 px, x264 CRF 28/30/32, AAC 64 kb/s) and
trimmed by a second at the start, the end or both; each copy is looked up among all the kept
fingerprints. Unrelated videos are looked up too: the same prompts at seeds that were never
kept, prompts that were never kept, and synthetic noise videos with and without sound.
Prints the match rate (copy traced to its own clip), the miss rate, the false-match rate (a copy
traced to the wrong clip, or an unrelated video traced to any), the distances on either side of
the thresholds, and the time per fingerprint and per lookup.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.encode import encode_mp4
from engine.pipeline import generate
from engine.provenance.fingerprint import Fingerprint, fingerprint_mp4
from engine.provenance.matching import (
    AUDIO_MAX,
    VIDEO_MAX,
    Similarity,
    best_match,
    compare,
)
from engine.request import RenderRequest
from engine.sketch import SketchBackend
from tests.engine.chat_copy import chat_copy

PROMPTS = (
    "a cat DJ at a rooftop party",
    "a dog surfing a giant wave",
    "robots dancing in the rain",
    "a penguin eating pizza in space",
    "two frogs arguing about taxes",
    "a wizard stuck in traffic",
    "a hamster running for president",
    "dinosaurs at a karaoke night",
    "a ghost learning to skateboard",
    "an octopus playing drums underwater",
    "a llama at a job interview",
    "pirates discovering wifi",
    "a snail winning a race",
    "a dragon baking cupcakes",
    "a goat doing stand-up comedy",
    "aliens visiting a supermarket",
    "a bear on a first date",
    "a robot chef burning toast",
    "a squirrel stealing a phone",
    "a knight afraid of a mouse",
    "a unicorn in a traffic jam",
    "grandma winning a rap battle",
    "a shark at the dentist",
    "a chicken crossing a galaxy",
    "a cow DJ at sunrise",
)
NEVER_KEPT = ("a moose selling ice cream", "a parrot teaching math", "a duck on a rollercoaster")
TRIMS = ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0))
CRFS = (28, 30, 32)


@dataclass
class Tally:
    hits: int = 0
    misses: int = 0
    wrong: int = 0
    unrelated: int = 0
    unrelated_matched: int = 0


def request(prompt: str, seed: int, options: argparse.Namespace) -> RenderRequest:
    return RenderRequest(
        prompt=prompt,
        seed=seed,
        width=options.width,
        height=options.height,
        fps=options.fps,
        duration_s=5.0,
        author=f"@person{seed % 7}",
        job_id=f"bench-{seed}",
    )


def noise_video(seed: int, *, with_sound: bool) -> bytes:
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 255, (60, 240, 320, 3), dtype=np.uint8)
    for index, frame in enumerate(frames):
        x = (index * 5 + seed * 13) % 280
        frame[60:180, x : x + 40] = rng.integers(0, 255, 3)
    audio = None
    if with_sound:
        t = np.arange(48_000 * 5) / 48_000
        audio = np.stack([0.3 * np.sin(2 * np.pi * (150 + 40 * seed) * t)] * 2)
    return encode_mp4(frames, audio, fps=12, sample_rate=48_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=50)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--height", type=int, default=512)
    parser.add_argument("--fps", type=int, default=24)
    options = parser.parse_args()
    backend = SketchBackend()
    kept: list[tuple[int, Fingerprint]] = []
    originals: list[bytes] = []
    for number in range(options.clips):
        clip = generate(request(PROMPTS[number % len(PROMPTS)], number, options), backend)
        kept.append((number, Fingerprint.from_bytes(clip.fingerprint)))
        originals.append(clip.data)
    print(f"{len(kept)} clips {options.width}x{options.height} at {options.fps} fps, 5 s each")

    tally = Tally()
    same: list[Similarity] = []
    other: list[Similarity] = []
    lookups: list[float] = []
    prints: list[float] = []
    for number, data in enumerate(originals):
        start_s, end_s = TRIMS[number % len(TRIMS)]
        copy = chat_copy(data, crf=CRFS[number % len(CRFS)], trim_start_s=start_s, trim_end_s=end_s)
        found = timed_lookup(copy, kept, prints, lookups)
        own = compare(fingerprint_mp4(copy), kept[number][1])
        same.append(own)
        if found is None:
            tally.misses += 1
        elif found[0] == number:
            tally.hits += 1
        else:
            tally.wrong += 1
        neighbour = kept[(number + 1) % len(kept)][1]
        other.append(compare(fingerprint_mp4(copy), neighbour))

    unrelated = [request(p, 1000 + i, options) for i, p in enumerate(PROMPTS[: options.clips // 2])]
    unrelated += [request(p, 2000 + i, options) for i, p in enumerate(NEVER_KEPT)]
    videos = [chat_copy(generate(r, backend).data) for r in unrelated]
    videos += [chat_copy(noise_video(seed, with_sound=seed % 2 == 0)) for seed in range(10)]
    for video in videos:
        tally.unrelated += 1
        if timed_lookup(video, kept, prints, lookups) is not None:
            tally.unrelated_matched += 1
    report(tally, same, other, prints, lookups)


def timed_lookup(
    video: bytes, kept: list[tuple[int, Fingerprint]], prints: list[float], lookups: list[float]
) -> tuple[int, Similarity] | None:
    start = time.perf_counter()
    copy = fingerprint_mp4(video)
    middle = time.perf_counter()
    found = best_match(copy, kept)
    end = time.perf_counter()
    prints.append(middle - start)
    lookups.append(end - middle)
    return found


def report(
    tally: Tally,
    same: list[Similarity],
    other: list[Similarity],
    prints: list[float],
    lookups: list[float],
) -> None:
    copies = tally.hits + tally.misses + tally.wrong
    false = tally.wrong + tally.unrelated_matched
    print(f"copies      {copies} (480 px, CRF 28-32, AAC 64 kb/s, 1 s trimmed at one or both ends)")
    print(f"match rate  {tally.hits / copies:.1%}  ({tally.hits} traced to their own clip)")
    print(f"miss rate   {tally.misses / copies:.1%}  ({tally.misses} not traced)")
    print(
        f"false match {false / (copies + tally.unrelated):.1%}  ({tally.wrong} copies to a wrong "
        f"clip, {tally.unrelated_matched} of {tally.unrelated} unrelated videos to any clip)"
    )
    print(
        f"picture     own clip: worst {max(s.video for s in same):.3f}; another clip: best "
        f"{min(o.video for o in other):.3f}  (threshold {VIDEO_MAX})"
    )
    sounds = [s.audio for s in same if s.audio is not None]
    print(f"sound       own clip: worst {max(sounds):.3f}  (threshold {AUDIO_MAX}; unrelated ~0.5)")
    print(
        f"fingerprint {statistics.median(prints) * 1000:.0f} ms median per copy (decode included)"
    )
    print(
        f"lookup      {statistics.median(lookups) * 1000:.1f} ms median against {len(same)} clips"
    )


if __name__ == "__main__":
    main()
