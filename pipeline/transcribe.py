"""One recording in, one ``Transcript`` out.

The recording is split into transmissions (``audio.find_transmissions``); the
transmissions are packed into windows of up to 30 s with short gaps between them
(``packing.pack_windows``), so Whisper's fixed 30 s input is filled with speech
instead of padding; the windows go to the engine ``decode.batch_size`` at a time
(``Engine.transcribe_batch``: one batched model call on faster-whisper), their
audio built only for the batch in hand, and every word is mapped back to its
absolute time in the recording. A Whisper segment that spans
two packed transmissions is split at the transmission boundary, so every
``Segment`` belongs to exactly one transmission. A transmission a packed window
gives no words (Whisper stops early after a change of voice or channel, or a guard
drops the segment holding it) is packed again with the others missed, and what is
still missed is decoded alone (``decode_windows``). Each piece's ``avg_logprob``
is its own words' (``words_logprob``), not the window's; its ``no_speech_prob`` is
the window's only where the window held it alone (None for a packed window's pieces).

Many short recordings (a trunk-recorder day: thousands of 2-15 s calls) go through
``transcribe_many``: consecutive calls of one talkgroup are laid end to end and
their transmissions packed across calls the same way, then mapped back to each call.

Nothing here decodes files twice or loads models: the caller passes samples and
an engine.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

import numpy as np

from pipeline import audio, packing, progress
from pipeline.engines import DecodeOptions, Engine
from pipeline.records import Segment, Transcript, Transmission, Word

log = logging.getLogger(__name__)


@dataclass
class TranscribeOptions:
    """Everything that shapes a transcript (and so its workspace key)."""

    model: str = "tiny.en"
    """Model name from the registry, a CTranslate2 directory or a ``.pt`` checkpoint."""
    engine: str = "faster-whisper"
    """``faster-whisper`` (default, int8 on CPU) or ``openai-whisper``."""
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    """Decoding options passed to the engine."""
    segment: audio.SegmentOptions = field(default_factory=audio.SegmentOptions)
    """How recordings are split into transmissions."""
    pack: bool = True
    """Pack consecutive transmissions into windows of up to ``max_window_s``."""
    max_window_s: float = 30.0
    """Longest packed window in seconds (Whisper's input length)."""
    gap_s: float = 0.5
    """Silence in seconds between two packed transmissions (shorter made Whisper stop
    early in more windows: packing strictly in order, 0.3 s missed 39 transmissions of
    119 on the bench, 0.5 s 22)."""
    lookahead: int = 5
    """How many of the next transmissions may fill the end of a packed window
    (``packing.pack_windows``); 1 packs strictly consecutive transmissions. On the bench 5
    packed 19 windows instead of 20 (the fewest that hold the speech) and word error was
    0.469 instead of 0.494, though Whisper skipped 29 transmissions instead of 22 (a
    short one pulled to a window's end is the one it skips; they are packed again)."""
    pack_calls: bool = False
    """Pack the transmissions of consecutive short recordings (calls) into shared windows
    (``transcribe_many``). Off by default: on a generated trunk-recorder folder of 150
    calls (``bench/bench_calls.py``) it was 1.4x faster than faster-whisper on each call,
    but at word error 0.463 against 0.432 (on 40 calls 0.454 against 0.465): no measured
    gain in words yet."""

    def fingerprint(self) -> dict:
        """The options as plain data, for the workspace key (``pack_calls`` only when on, so
        transcripts stored before it existed keep their keys)."""
        data = asdict(self)
        if not self.pack_calls:
            data.pop("pack_calls")
        return data


def transcribe_samples(
    samples: np.ndarray, engine: Engine, options: TranscribeOptions
) -> tuple[list[Transmission], list[Segment]]:
    """Split samples into transmissions and transcribe them.

    Args:
        samples: float32 mono audio at ``audio.SAMPLE_RATE``.
        engine: A loaded engine.
        options: Transcription options.

    Returns:
        The transmissions and the segments, segment ids counted from 0, times absolute.
    """
    transmissions = audio.find_transmissions(samples, options.segment)
    windows = plan_windows(transmissions, options)
    segments = decode_windows(samples, windows, engine, options.decode, options.max_window_s)
    segments.sort(key=lambda s: s.start)
    for n, seg in enumerate(segments):
        seg.segment_id = n
    return transmissions, segments


def plan_windows(transmissions: list[Transmission], options: TranscribeOptions) -> list[packing.Window]:
    """The windows ``transcribe_samples`` decodes first: packed, or one per transmission."""
    if not options.pack:
        return packing.pack_windows(transmissions, max_window_s=0.0)
    return packing.pack_windows(transmissions, options.max_window_s, options.gap_s, options.lookahead)


def decode_windows(samples: np.ndarray, windows: list[packing.Window], engine: Engine,
                   decode: DecodeOptions, max_window_s: float = 30.0) -> list[Segment]:
    """Transcribe windows into segments with absolute times, one transmission each.

    Packed windows go first, ``decode.batch_size`` at a time, with timestamp tokens
    and without the temperature fallback. Whisper often ends a packed window early
    (after a change of voice or channel it takes the rest for silence: on a busy
    channel, 4 min of single lines, 6 of 7 packed windows closed a segment, opened an
    empty one and stopped before their last transmission, with tiny.en; padding the
    window to 30 s with silence, noise in the gaps, greedy decoding, no timestamp
    tokens or 26 s windows each moved the misses rather than removing them) or a
    guard drops a segment; the transmissions left without words, or the one the decoding
    stopped inside of, are packed again among themselves and decoded once more
    (``REPACK_ROUNDS``), and what is still missed is decoded alone, at the first
    temperature (on the bench the fallback on these changed no word error: what it
    retries is hard audio that comes back as other wrong words). Windows of one
    transmission (``--no-pack``, or longer than a window) are decoded alone with the
    fallback. The extra windows are logged, and how far into ``samples`` the decoded windows
    reach is reported as they finish (:func:`pipeline.progress.reached`).
    """
    progress.reached(0.0, len(samples) / audio.SAMPLE_RATE)
    packed = [w for w in windows if len(w.placements) > 1]
    single = [w for w in windows if len(w.placements) == 1]
    segments, missed = _decode_packed(engine, samples, packed, decode)
    repacked = 0
    for _ in range(REPACK_ROUNDS):
        again = _repack(missed, max_window_s, REPACK_GAP)
        if not any(len(w.placements) > 1 for w in again):
            break
        more, missed = _decode_packed(engine, samples, [w for w in again if len(w.placements) > 1],
                                      decode)
        segments += more
        missed += [w.placements[0] for w in again if len(w.placements) == 1]
        repacked += sum(len(w.placements) > 1 for w in again)
    log.info("%d windows packed, %d packed again, then %d decoded alone "
             "(%d transmissions the packed missed)",
             len(packed), repacked, len(single) + len(missed), len(missed))
    segments += _decode_alone(engine, samples, single, decode)
    segments += _decode_alone(engine, samples, [_alone(p) for p in missed],
                              replace(decode, temperature=decode.temperature[:1]))
    return segments


REPACK_ROUNDS = 1
"""Times the transmissions packed windows missed are packed again among themselves before
the rest is decoded alone. On the bench (119 transmissions, 30 min) one round decoded 4
windows instead of 29 transmissions alone, 12 of them still missed; a second round added
one window and recovered none."""
REPACK_GAP = 1.0
"""Silence in seconds between repacked transmissions: longer than the first packing's,
as these are the ones Whisper skipped after a change of voice (on the bench 1.0 s left 12
missed and word error 0.462, 0.5 s left 7 missed and 0.482, 2.0 s 13 and 0.475)."""


def _decode_packed(engine: Engine, samples: np.ndarray, packed: list[packing.Window],
                   decode: DecodeOptions) -> tuple[list[Segment], list[packing.Placement]]:
    """Segments of packed windows, batched, and the placements they missed (in time order)."""
    size = max(1, decode.batch_size)
    segments: list[Segment] = []
    missed: list[packing.Placement] = []
    for first in range(0, len(packed), size):
        batch = packed[first:first + size]
        decoded = _transcribe_windows(engine, samples, batch, decode, packed=True)
        for window, window_segments in zip(batch, decoded, strict=True):
            again = _missed(window, window_segments or [])
            segments += [p for seg in window_segments or [] for p in _unpack(seg, window)
                         if p.transmission_id not in again]
            missed += [window.placements[n] for n in again.values()]
    return segments, sorted(missed, key=lambda p: p.index)


def _repack(placements: list[packing.Placement], max_window_s: float, gap_s: float
            ) -> list[packing.Window]:
    """Pack transmissions again, strictly in order, keeping their indices in the recording."""
    windows = packing.pack_windows([p.transmission for p in placements], max_window_s, gap_s)
    for window in windows:
        window.placements = [replace(q, index=placements[q.index].index) for q in window.placements]
    return windows


def _decode_alone(engine: Engine, samples: np.ndarray, windows: list[packing.Window],
                  decode: DecodeOptions) -> list[Segment]:
    """Segments of windows holding one transmission each, in time order, batched."""
    windows = sorted(windows, key=lambda w: w.start)
    size = max(1, decode.batch_size)
    segments: list[Segment] = []
    for first in range(0, len(windows), size):
        batch = windows[first:first + size]
        decoded = _transcribe_windows(engine, samples, batch, decode, packed=False)
        for window, window_segments in zip(batch, decoded, strict=True):
            segments += [p for seg in window_segments for p in _unpack(seg, window)]
    return segments


STOPPED_S = 1.0
"""A packed window's decoding counts as stopped inside a transmission when its last word
ends more than this before the transmission does."""


def _missed(window: packing.Window, segments: list[Segment]) -> dict[int, int]:
    """Transmissions of a decoded packed window to decode again alone, index -> placement.

    Those that got no words, and the one the decoding stopped inside of, if any
    (segments stand in for words when there are no word times).
    """
    spans = [w for seg in segments for w in seg.words] or segments
    stop = max((x.end for x in spans), default=0.0)
    got = {window.placement_at((x.start + x.end) / 2).index for x in spans}
    return {p.index: n for n, p in enumerate(window.placements)
            if p.index not in got or p.offset < stop < p.end_offset - STOPPED_S}


def _alone(placement: packing.Placement) -> packing.Window:
    """A window holding one transmission."""
    return packing.Window([packing.Placement(placement.index, placement.transmission, 0.0)])


def _transcribe_windows(engine: Engine, samples: np.ndarray, windows: list[packing.Window],
                        decode: DecodeOptions, packed: bool) -> list[list[Segment] | None]:
    """Window-relative segments per window, batched where the engine can (the audio is
    built for these windows only). Packed: timestamp tokens, and None for a window that
    fails the thresholds; alone: one segment per window, temperature fallback."""
    audios = [packing.window_audio(samples, w) for w in windows]
    decoded = engine.transcribe_batch(audios, decode, fallback=not packed, timestamps=packed)
    progress.reached(max(w.end for w in windows), len(samples) / audio.SAMPLE_RATE)
    return decoded


def _unpack(seg: Segment, window: packing.Window) -> list[Segment]:
    """Map a window-relative segment to absolute times, one segment per transmission.

    Whisper's ``no_speech_prob`` is the window's, and only a window of one transmission
    makes it a segment's; pieces of a packed window get None.
    """
    if len(window.placements) > 1:
        seg = replace(seg, no_speech_prob=None)
    by_transmission: dict[int, list[Word]] = {}
    for w in seg.words:
        tid, start, end = window.span_to_absolute(w.start, w.end)
        by_transmission.setdefault(tid, []).append(Word(start, end, w.word, w.probability))
    if not by_transmission:  # a segment without words: keep its span, mapped by its midpoint
        tid, start, end = window.span_to_absolute(seg.start, seg.end)
        return [_piece(seg, tid, start, end, [], seg.text.strip())]
    pieces = []
    for tid, words in by_transmission.items():
        text = "".join(w.word if w.word.startswith(" ") else " " + w.word for w in words).strip()
        pieces.append(_piece(seg, tid, words[0].start, words[-1].end, words, text))
    return pieces


def words_logprob(words: list[Word]) -> float | None:
    """Mean log-probability of a segment's own words, None without words.

    A word's probability is the mean of its tokens' (from the alignment of the decoded
    text with the audio), so this scores the segment's own text. Whisper's
    ``avg_logprob`` is one figure per decoding window, the same for every line of a
    packed window.

    >>> round(words_logprob([Word(0, 1, "a", 0.5), Word(1, 2, "b", 1.0)]), 3)
    -0.347
    """
    if not words:
        return None
    return float(np.mean([np.log(max(w.probability, 1e-6)) for w in words]))


def _piece(seg: Segment, tid: int, start: float, end: float, words: list[Word], text: str):
    """One transmission's part of a decoded segment; its ``avg_logprob`` is its own words'
    (:func:`words_logprob`), not the decoding window's, so two lines of one packed window
    are scored apart (the guards judged the window's before)."""
    own = words_logprob(words)
    return Segment(
        segment_id=-1,
        start=start,
        end=end,
        text=text,
        words=[Word(w.start, w.end, w.word.strip(), w.probability) for w in words],
        avg_logprob=seg.avg_logprob if own is None else own,
        no_speech_prob=seg.no_speech_prob,
        compression_ratio=seg.compression_ratio,
        transmission_id=tid,
    )


@dataclass
class Recording:
    """One decoded recording handed to :func:`transcribe_many`."""

    recording: str
    """The path as the user gave it."""
    samples: np.ndarray
    """Its audio (``audio.load_audio``)."""
    sha256: str
    """The file's content hash."""
    talkgroup: str = ""
    """Talkgroup of a radio call, empty where unknown."""
    started_at: datetime | None = None
    """Wall-clock start of a radio call, None where unknown."""

    def order(self) -> tuple:
        """Where it goes among others: by talkgroup and start, then by path."""
        when = self.started_at.timestamp() if self.started_at else 0.0
        return (self.talkgroup, when, self.recording)


MANY_GROUP_S = 600.0
"""Most seconds of audio packed together by :func:`transcribe_many` (the calls held in
memory at once: 10 minutes is 38 MB of samples)."""
CALL_GAP_S = 1.0
"""Silence in seconds placed between two recordings laid end to end for packing (no
window ever holds it: packed transmissions get ``gap_s`` between them)."""


def transcribe_many(items: list[Recording], engine: Engine, options: TranscribeOptions
                    ) -> list[Transcript]:
    """Transcribe many short recordings, packing transmissions across them.

    Transcribing a 2-15 s call on its own fills a 30 s window with a few seconds of
    speech. Here consecutive recordings (same talkgroup in time order where the calls
    say, else by path; ``Recording.order``) are laid end to end, up to
    :data:`MANY_GROUP_S` of audio at a time, their transmissions found in each one
    alone, packed into windows across recordings and decoded as in
    :func:`transcribe_samples` (the same guards against transmissions a packed
    window skips), and every segment is mapped back to the recording and
    transmission it came from. A recording's words can so depend on the calls packed
    beside it; the same batch gives the same words. Without ``options.pack_calls``
    each recording is transcribed alone (``transcribe_file``).

    Args:
        items: Decoded recordings.
        engine: A loaded engine.
        options: Transcription options.

    Returns:
        One transcript per item, in the order given.
    """
    if not options.pack_calls:
        return [transcribe_file(x.recording, x.samples, x.sha256, engine, options) for x in items]
    done: dict[int, Transcript] = {}
    for group in _groups(sorted(range(len(items)), key=lambda n: items[n].order()), items):
        for n, transcript in zip(group, _transcribe_group([items[n] for n in group], engine,
                                                          options), strict=True):
            done[n] = transcript
    return [done[n] for n in range(len(items))]


def _groups(order: list[int], items: list[Recording]) -> list[list[int]]:
    """Consecutive items of one talkgroup, up to ``MANY_GROUP_S`` of audio each."""
    groups: list[list[int]] = []
    length = 0.0
    for n in order:
        seconds = len(items[n].samples) / audio.SAMPLE_RATE
        fresh = (not groups or length + seconds > MANY_GROUP_S
                 or items[groups[-1][-1]].talkgroup != items[n].talkgroup)
        if fresh:
            groups.append([])
            length = 0.0
        groups[-1].append(n)
        length += seconds + CALL_GAP_S
    return groups


def _transcribe_group(group: list[Recording], engine: Engine, options: TranscribeOptions
                      ) -> list[Transcript]:
    """Recordings laid end to end, transcribed as one, and split back (one alone as is)."""
    if len(group) == 1:
        (item,) = group
        return [transcribe_file(item.recording, item.samples, item.sha256, engine, options)]
    offsets, found, owner, at = [], [], [], 0.0
    for k, item in enumerate(group):
        offsets.append(at)
        here = audio.find_transmissions(item.samples, options.segment)
        found.append(here)
        owner += [k] * len(here)
        at += len(item.samples) / audio.SAMPLE_RATE + CALL_GAP_S
    joined = np.zeros(int(round(at * audio.SAMPLE_RATE)), dtype=np.float32)
    for item, offset in zip(group, offsets, strict=True):
        start = int(round(offset * audio.SAMPLE_RATE))
        joined[start:start + len(item.samples)] = item.samples
    shifted = [_shift(t, offsets[k]) for k, here in enumerate(found) for t in here]
    segments = decode_windows(joined, plan_windows(shifted, options), engine, options.decode,
                              options.max_window_s)
    first = np.cumsum([0] + [len(here) for here in found])
    per_item: list[list[Segment]] = [[] for _ in group]
    for seg in segments:
        k = owner[seg.transmission_id]
        per_item[k].append(_moved(seg, -offsets[k], seg.transmission_id - int(first[k])))
    out = []
    for item, here, segs in zip(group, found, per_item, strict=True):
        segs.sort(key=lambda s: s.start)
        for n, seg in enumerate(segs):
            seg.segment_id = n
        out.append(_transcript(item.recording, item.sha256, item.samples, options, segs, here))
    return out


def _shift(t: Transmission, by: float) -> Transmission:
    """A transmission moved ``by`` seconds."""
    return replace(t, start=t.start + by, end=t.end + by,
                   speech_start=None if t.speech_start is None else t.speech_start + by,
                   speech_end=None if t.speech_end is None else t.speech_end + by)


def _moved(seg: Segment, by: float, transmission_id: int) -> Segment:
    """A segment moved ``by`` seconds, words too, with its transmission's new index."""
    words = [replace(w, start=w.start + by, end=w.end + by) for w in seg.words]
    return replace(seg, start=seg.start + by, end=seg.end + by, words=words,
                   transmission_id=transmission_id)


def _transcript(recording: str, sha256: str, samples: np.ndarray, options: TranscribeOptions,
                segments: list[Segment], transmissions: list[Transmission]) -> Transcript:
    return Transcript(recording=recording, sha256=sha256,
                      duration=len(samples) / audio.SAMPLE_RATE, model=options.model,
                      engine=options.engine, segments=segments, transmissions=transmissions)


def transcribe_file(
    recording: str, samples: np.ndarray, sha256: str, engine: Engine, options: TranscribeOptions
) -> Transcript:
    """Transcribe one decoded recording into a ``Transcript``.

    Args:
        recording: The path as the user gave it.
        samples: The decoded audio (``audio.load_audio``).
        sha256: The file's content hash.
        engine: A loaded engine.
        options: Transcription options.
    """
    transmissions, segments = transcribe_samples(samples, engine, options)
    log.info("%s: %d transmissions, %d segments", recording, len(transmissions), len(segments))
    return _transcript(recording, sha256, samples, options, segments, transmissions)
