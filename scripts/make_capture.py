"""Cut the re-enactment into a small trunk-recorder capture folder.

Reads ``audio_samples/dispatch-channel.mp3`` and its ``manifest.csv`` and writes
``audio_samples/capture/``: the transmissions grouped into calls (a unit answered within
``CALL_GAP_S`` stays in one call, as a trunked system keeps a talkgroup's channel through
its hang time), each call as trunk-recorder lays it out (``SYSTEM/YYYY/M/D/
TG-EPOCH_FREQ-call_N.wav`` with the call JSON beside it, in the fields its
``create_call_json`` writes), one encrypted call on another talkgroup, a unit tags file in
trunk-recorder's ``unitTagsFile`` format, and ``truth.csv``: each transmission's call,
unit and offsets in the call, for tests and benchmarks.

The channel's timeline is placed at 21:40 on 4 October 2025, Chicago time (02:40 UTC on
the 5th): wall-clock times in the call files are that start plus the manifest's offsets.

    .venv/bin/python scripts/make_capture.py
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from pipeline.audio import write_wav

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "audio_samples"
OUT = SAMPLES / "capture"
RECORDING = "dispatch-channel.mp3"
RATE = 8000
"""trunk-recorder's WAV rate for P25 voice."""
SYSTEM = "metro"
TALKGROUP = 3105
TALKGROUP_TAG = "PD Zone 8"
TALKGROUP_DESCRIPTION = "Police dispatch, zone 8"
TALKGROUP_GROUP = "Police"
FREQ = 851012500.0
CHANNEL_START = datetime(2025, 10, 5, 2, 40, 0, tzinfo=timezone.utc)
"""Wall-clock time of offset 0 of the channel recording (21:40 CDT on 4 October)."""
CALL_GAP_S = 4.5
"""Transmissions closer than this share a call."""
LEAD_S = 0.5
"""Audio kept before a call's first transmission (the key-up)."""
TAIL_S = 0.6
"""Audio kept after its last (hang time and squelch tail)."""
KEY_UP_S = 0.4
"""A unit keys up this long before its speech starts (``srcList`` ``pos``)."""
UNITS = {
    "Dispatcher": (1081, "Zone 8 Dispatcher"),
    "Relay": (1082, "Zone 8 Dispatch Relay"),
    "Unit 1": (8330, "Beat 833"),
    "Unit 2": (8120, "Beat 812"),
}
"""Manifest speaker -> (radio unit ID, tag in the unit tags file)."""
UNTAGGED = {8120}
"""Units the tags file leaves out: the tables name them by ID."""


def load(path: Path) -> np.ndarray:
    """Decode to int16 mono at ``RATE``."""
    import av

    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        chunks = [f.to_ndarray().reshape(-1) for frame in container.decode(audio=0)
                  for f in resampler.resample(frame)]
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.int16)


def group_calls(rows: list[dict]) -> list[list[dict]]:
    calls: list[list[dict]] = []
    for row in rows:
        if calls and float(row["start_s"]) - float(calls[-1][-1]["end_s"]) < CALL_GAP_S:
            calls[-1].append(row)
        else:
            calls.append([row])
    return calls


def call_json(n: int, start: float, length: float, rows: list[dict], **extra) -> dict:
    """A call file in the fields and order trunk-recorder's ``create_call_json`` writes."""
    began = CHANNEL_START.timestamp() + start
    start_ms = round(began * 1000)
    src = []
    for i, row in enumerate(rows):
        unit, _tag = UNITS[row["speaker"]]
        pos = 0.0 if i == 0 else round(float(row["start_s"]) - KEY_UP_S - start, 2)
        src.append({"src": unit, "time": int((start_ms + pos * 1000) // 1000), "pos": pos,
                    "emergency": 0, "signal_system": "", "tag": ""})
    return {
        "freq": FREQ, "freq_error": 0, "signal": -48, "noise": -112, "source_num": 0,
        "recorder_num": n % 4, "tdma_slot": 0, "phase2_tdma": 0,
        "start_time": start_ms // 1000, "stop_time": (start_ms + round(length * 1000)) // 1000,
        "start_time_ms": start_ms, "stop_time_ms": start_ms + round(length * 1000),
        "emergency": 0, "priority": 1, "mode": 0, "duplex": 0, "encrypted": 0,
        "call_length": round(length), "call_length_ms": round(length * 1000),
        "talkgroup": TALKGROUP, "talkgroup_tag": TALKGROUP_TAG,
        "talkgroup_description": TALKGROUP_DESCRIPTION, "talkgroup_group_tag": "Law Dispatch",
        "talkgroup_group": TALKGROUP_GROUP, "audio_type": "digital", "short_name": SYSTEM,
        "freqList": [{"freq": FREQ, "time": start_ms // 1000, "pos": 0.0, "len": round(length, 2),
                      "error_count": 0, "spike_count": 0}],
        "srcList": src,
        **extra,
    }


def call_path(start_ms: int, n: int, talkgroup: int = TALKGROUP) -> Path:
    when = datetime.fromtimestamp(start_ms / 1000, timezone.utc)
    folder = OUT / SYSTEM / str(when.year) / str(when.month) / str(when.day)
    return folder / f"{talkgroup}-{start_ms // 1000}_{FREQ}-call_{n}.wav"


def main() -> None:
    with (SAMPLES / "manifest.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["recording"] == RECORDING]
    audio = load(SAMPLES / RECORDING)
    truth = []
    total = 0
    for n, rows_in_call in enumerate(group_calls(rows), start=1):
        start = max(0.0, float(rows_in_call[0]["start_s"]) - LEAD_S)
        end = min(len(audio) / RATE, float(rows_in_call[-1]["end_s"]) + TAIL_S)
        samples = audio[round(start * RATE):round(end * RATE)]
        length = len(samples) / RATE
        meta = call_json(n, start, length, rows_in_call)
        path = call_path(meta["start_time_ms"], n)
        write_wav(path, samples, RATE)
        path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        total += path.stat().st_size
        for row in rows_in_call:
            unit, _tag = UNITS[row["speaker"]]
            truth.append({"call": path.relative_to(OUT).as_posix(), "unit": unit,
                          "speaker": row["speaker"],
                          "start_s": round(float(row["start_s"]) - start, 3),
                          "end_s": round(float(row["end_s"]) - start, 3), "text": row["text"]})
    n += 1
    secret = call_json(n, float(rows[-1]["end_s"]) + 20, 1.5, [], encrypted=1)
    secret.update(talkgroup=3109, talkgroup_tag="PD Zone 8 Tac", talkgroup_description=
                  "Tactical, encrypted")
    path = call_path(secret["start_time_ms"], n, 3109)
    write_wav(path, (np.random.default_rng(7).normal(0, 300, int(1.5 * RATE))).astype(np.int16), RATE)
    path.with_suffix(".json").write_text(json.dumps(secret, indent=2) + "\n", encoding="utf-8")
    with (OUT / "unit_tags.csv").open("w", encoding="utf-8", newline="") as f:
        for unit, tag in sorted(UNITS.values()):
            if unit not in UNTAGGED:
                f.write(f"{unit},{tag}\n")
    with (OUT / "truth.csv").open("w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(truth[0]))
        out.writeheader()
        out.writerows(truth)
    print(f"{n} calls, {total / 1e6:.2f} MB of audio in {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
