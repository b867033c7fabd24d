"""The soundtrack: a bed (the video model's own audio, or else a seeded little tune of drums,
bass and chords) mixed under the dialogue.

Everything is numpy over whole arrays; a 5 s track takes a few tens of milliseconds.
Tracks are float32, 48 kHz, shaped (2, samples) for stereo, exactly the clip's length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.request import RenderRequest
from engine.speech import resample

SAMPLE_RATE = 48_000
# Loudness is matched by RMS (a plain stand-in for LUFS): about -16 dBFS, what phones play at.
TARGET_RMS = 10 ** (-16 / 20)
_MUSIC_RMS = 10 ** (-20 / 20)
_SPEECH_RMS = 10 ** (-15 / 20)
# How far the music drops while someone speaks.
_DUCK_GAIN = 0.3

# Chord roots, in semitones above the key's root, one chord per bar.
_PROGRESSIONS_MAJOR = ((0, 7, 9, 5), (0, 5, 7, 5), (9, 5, 0, 7), (0, 9, 5, 7))
_PROGRESSIONS_MINOR = ((0, 8, 3, 10), (0, 5, 8, 7), (0, 10, 8, 10))


@dataclass(frozen=True)
class Groove:
    """The tune's choices; the renderer reads `bpm` so the picture bounces on the beat."""

    bpm: int
    root_midi: int
    minor: bool
    progression: tuple[int, ...]

    @property
    def beat_s(self) -> float:
        return 60.0 / self.bpm


def groove_for(request: RenderRequest) -> Groove:
    rng = np.random.default_rng(request.seed_for("music"))
    minor = bool(rng.random() < 0.4)
    choices = _PROGRESSIONS_MINOR if minor else _PROGRESSIONS_MAJOR
    progression = choices[int(rng.integers(len(choices)))]
    return Groove(int(rng.integers(92, 141)), int(rng.integers(40, 48)), minor, progression)


def _hz(midi: float) -> float:
    return float(440.0 * 2 ** ((midi - 69) / 12))


def _decay(length: int, seconds: float, sample_rate: int) -> np.ndarray:
    return np.asarray(np.exp(-np.arange(length) / (seconds * sample_rate)), dtype=np.float32)


def _kick(sample_rate: int) -> np.ndarray:
    t = np.arange(int(0.25 * sample_rate), dtype=np.float32) / sample_rate
    # A falling pitch is what makes a sine sound like a drum.
    phase = 2 * np.pi * (50 * t + (120 / 30) * (1 - np.exp(-30 * t)))
    return np.asarray(np.sin(phase) * _decay(t.size, 0.08, sample_rate), dtype=np.float32)


def _noise_hit(rng: np.random.Generator, seconds: float, decay_s: float, sr: int) -> np.ndarray:
    noise = rng.standard_normal(int(seconds * sr)).astype(np.float32)
    # A first difference tilts white noise towards the highs: hats and claps, not rumble.
    bright = np.diff(noise, prepend=np.float32(0.0)) * np.float32(0.5)
    return np.asarray(bright * _decay(bright.size, decay_s, sr), dtype=np.float32)


def _tone(freqs: list[float], length: int, sample_rate: int, harmonics: int = 1) -> np.ndarray:
    t = np.arange(length, dtype=np.float32) / sample_rate
    wave = np.zeros(length, dtype=np.float32)
    for f in freqs:
        for h in range(1, harmonics + 1):
            wave += np.sin(2 * np.pi * f * h * t) / h
    return wave


def _add(track: np.ndarray, at: int, sound: np.ndarray) -> None:
    end = min(track.shape[-1], at + sound.shape[-1])
    if at < end:
        track[..., at:end] += sound[..., : end - at]


def compose_music(request: RenderRequest, *, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A stereo loop fitted to the clip: kick and clap, hats, a bassline and chord stabs."""
    groove = groove_for(request)
    rng = np.random.default_rng(request.seed_for("drums"))
    n = round(request.video_duration_s * sample_rate)
    drums = np.zeros(n, dtype=np.float32)
    tonal = np.zeros((2, n), dtype=np.float32)
    eighth = groove.beat_s / 2
    kick, clap = _kick(sample_rate), _noise_hit(rng, 0.2, 0.05, sample_rate)
    hat = _noise_hit(rng, 0.05, 0.012, sample_rate)
    third = 3 if groove.minor else 4
    for step in range(int(request.video_duration_s / eighth) + 1):
        at = round(step * eighth * sample_rate)
        beat, on_beat = divmod(step, 2)
        _add(drums, at, hat * (0.5 if on_beat else 0.3))
        if not on_beat:
            _add(drums, at, kick if beat % 2 == 0 else clap * 0.8)
        chord_root = groove.root_midi + groove.progression[(beat // 4) % len(groove.progression)]
        length = round(eighth * sample_rate)
        env = _decay(length, eighth / 2, sample_rate)
        bass_note = chord_root + (12 if step % 4 == 3 else 0)
        bass = _tone([_hz(bass_note)], length, sample_rate, harmonics=3) * env
        _add(tonal, at, np.stack([bass, bass]))
        if beat % 2 == 0 and not on_beat:
            chord = [_hz(chord_root + 12 + i) for i in (0, third, 7)]
            stab = _tone(chord, 2 * length, sample_rate) * _decay(2 * length, eighth, sample_rate)
            # Chords a little to one side, alternating, so the mix is not all in the middle.
            pan = 0.35 if beat % 4 == 0 else 0.65
            _add(tonal, at, np.stack([stab * (1 - pan), stab * pan]) * 0.6)
    return _to_rms(tonal + drums * 0.8, _MUSIC_RMS)


def _rms(signal: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(signal, dtype=np.float64)))) if signal.size else 0.0


def _to_rms(signal: np.ndarray, target: float) -> np.ndarray:
    level = _rms(signal)
    return (signal * (target / level)).astype(np.float32) if level > 1e-9 else signal


def _smooth(signal: np.ndarray, window: int) -> np.ndarray:
    """A moving average by cumulative sums: O(n) whatever the window."""
    padded = np.concatenate([np.zeros(window, dtype=np.float64), signal.astype(np.float64)])
    sums = np.cumsum(padded)
    return np.asarray((sums[window:] - sums[:-window]) / window, dtype=np.float32)


def duck_gain(voice: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Gain for the music under `voice`: _DUCK_GAIN while someone speaks, 1 in between, with
    ~80 ms ramps either side so the music breathes rather than clicks."""
    active = (_smooth(np.abs(voice), sample_rate // 50) > 0.01).astype(np.float32)
    ramp = sample_rate // 12
    envelope = np.maximum(_smooth(active, ramp), _smooth(active[::-1], ramp)[::-1])
    return np.asarray(1 - (1 - _DUCK_GAIN) * envelope, dtype=np.float32)


def mix(
    music: np.ndarray, speech: np.ndarray | None, *, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Music ducked under the speech, the sum brought to the target loudness and limited."""
    out = music
    if speech is not None and _rms(speech) > 1e-6:
        voice = _to_rms(speech, _SPEECH_RMS)
        out = music * duck_gain(voice, sample_rate) + voice
    out = _to_rms(out, TARGET_RMS)
    return _fade_edges(_limit(out), sample_rate)


def _limit(signal: np.ndarray, knee: float = 0.8) -> np.ndarray:
    """Soft clip above `knee` so peaks never pass 1.0 and loud hits do not crackle."""
    magnitude = np.abs(signal)
    over = magnitude > knee
    if not over.any():
        return signal
    squashed = knee + (1 - knee) * np.tanh((magnitude - knee) / (1 - knee))
    return np.where(over, np.sign(signal) * squashed, signal).astype(np.float32)


def _fade_edges(signal: np.ndarray, sample_rate: int) -> np.ndarray:
    """A 10 ms fade in and a 250 ms fade out: no click at either end of the clip."""
    n = signal.shape[-1]
    fade_in, fade_out = min(n, sample_rate // 100), min(n, sample_rate // 4)
    gain = np.ones(n, dtype=np.float32)
    gain[:fade_in] = np.linspace(0, 1, fade_in, dtype=np.float32)
    gain[n - fade_out :] *= np.linspace(1, 0, fade_out, dtype=np.float32)
    return (signal * gain).astype(np.float32)


def fit_audio(
    audio: np.ndarray, rate: int, *, duration_s: float, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """A model's audio as a (2, round(duration_s * sample_rate)) float32 bed: resampled, made
    stereo, and cut or padded with silence to the clip's length (models round their audio to
    their own latent grid, so it rarely matches the video to the sample)."""
    channels = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    if channels.ndim != 2 or channels.shape[-1] == 0 or rate <= 0:
        raise ValueError(f"cannot use audio shaped {np.shape(audio)} at {rate} Hz")
    if channels.shape[0] != 2:
        # Mono is spread to both sides; anything else is folded down to mono first.
        mono = channels.mean(axis=0)
        channels = np.stack([mono, mono])
    stereo = np.stack([resample(channel, rate, sample_rate) for channel in channels])
    n = round(duration_s * sample_rate)
    fitted = np.zeros((2, n), dtype=np.float32)
    length = min(n, stereo.shape[1])
    fitted[:, :length] = stereo[:, :length]
    return fitted


def soundtrack(
    request: RenderRequest,
    speech: np.ndarray | None,
    *,
    sample_rate: int = SAMPLE_RATE,
    bed: np.ndarray | None = None,
) -> np.ndarray:
    """The clip's whole audio: (2, round(video_duration_s * sample_rate)) float32.

    `bed` (from `fit_audio`) replaces the synthesized music: the video model's own sound, or
    ambience from an audio model. It is levelled like the music so speech sits on top of it.
    """
    if bed is None:
        bed = compose_music(request, sample_rate=sample_rate)
    else:
        # A silent bed stays silent (_to_rms leaves it): the model chose a quiet scene.
        bed = _to_rms(bed, _MUSIC_RMS)
    return mix(bed, speech, sample_rate=sample_rate)
