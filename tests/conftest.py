"""Shared fixtures: a fake engine for plumbing tests, and generated audio files."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from pipeline.audio import SAMPLE_RATE
from pipeline.engines import Engine
from pipeline.records import Segment, Word

DATA = Path(__file__).parent / "data"


class FakeEngine(Engine):
    """Stands in for Whisper in plumbing tests (CLI, batch, export): never for accuracy.

    Each window gets one segment whose words are spread evenly over the audio; the
    guards and batching are the real ``Engine``'s.
    """

    name = "faster-whisper"
    model = "tiny.en"

    def __init__(self, words=("ten", "four", "dispatch"), fail_on_call: int | None = None):
        self.words = words
        self.calls = 0
        """Windows transcribed so far."""
        self.fail_on_call = fail_on_call
        """The call (counted from 1) that raises ``KeyboardInterrupt``, as a killed run."""

    def transcribe(self, audio, options, clips=None):
        self.calls += 1
        if self.fail_on_call is not None and self.calls == self.fail_on_call:
            raise KeyboardInterrupt("simulated kill")
        return super().transcribe(audio, options, clips)

    def _decode(self, audio, options, clips):
        duration = len(audio) / SAMPLE_RATE
        step = duration / len(self.words)
        words = [
            Word(start=i * step, end=(i + 0.8) * step, word=w, probability=0.9)
            for i, w in enumerate(self.words)
        ]
        yield Segment(segment_id=-1, start=0.0, end=duration, text=" ".join(self.words),
                      words=words, avg_logprob=-0.2, no_speech_prob=0.01)


def write_bursts(path: Path, bursts=((0.5, 1.5), (3.0, 4.2)), duration=5.0, sr=16000) -> Path:
    """A WAV file with noise bursts (stand-ins for transmissions) between silences."""
    rng = np.random.default_rng(len(str(path)))
    samples = np.zeros(int(duration * sr), dtype=np.float32)
    for start, end in bursts:
        a, b = int(start * sr), int(end * sr)
        t = np.arange(b - a) / sr
        samples[a:b] = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(b - a)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return path


@pytest.fixture
def fake_engine():
    return FakeEngine()


@pytest.fixture
def batch_dir(tmp_path):
    """A folder of two good recordings, a corrupt one and a text file named .wav."""
    folder = tmp_path / "calls"
    (folder / "night").mkdir(parents=True)
    write_bursts(folder / "a.wav")
    write_bursts(folder / "night" / "b.wav", bursts=((1.0, 2.0),), duration=3.0)
    (folder / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(range(7, 250)) * 4)
    (folder / "notes.wav").write_text("this is not audio\n")
    return folder


@pytest.fixture
def decoded(monkeypatch) -> list[str]:
    """The paths ``audio.load_audio`` decodes during the test, in order."""
    from pipeline import audio

    log: list[str] = []
    load_audio = audio.load_audio

    def counting(path, *args, **kwargs):
        log.append(str(path))
        return load_audio(path, *args, **kwargs)

    monkeypatch.setattr(audio, "load_audio", counting)
    return log


@pytest.fixture(autouse=True)
def _fresh_batch_engine(monkeypatch):
    """Each test starts with no engine remembered by this process's batch worker, so a fake
    engine one test loaded is never taken for the real model by the next."""
    import pipeline.batch

    monkeypatch.setattr(pipeline.batch, "_ENGINE", None)
    monkeypatch.setattr(pipeline.batch, "_LOADED_FOR", None)
