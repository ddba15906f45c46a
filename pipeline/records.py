"""Records that cross stage boundaries.

Plain dataclasses: no files, no models, no pandas. Times are seconds, absolute
in the recording they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum


class TextEnum(str, Enum):
    """A closed set of values written as text: a member equals, prints and formats as
    its value, so tables keep their text.

    >>> f"{Verdict.NOT_FOUND:<10}|", Verdict.MINOR == "minor"
    ('not_found |', True)
    """

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class Verdict(TextEnum):
    """What the audio says of a quote. The members are listed in report order.

    Each member carries what every stage needs: ``severity`` (when parts of a quote
    are judged apart, the most severe part wins), ``confirms`` (the audio holds the
    quote's words) and ``meaning`` (one line for a legend). The value is the text
    written in tables.
    """

    VERBATIM = "verbatim"
    MINOR = "minor"
    MISQUOTE = "misquote"
    UNVERIFIABLE = "unverifiable"
    NOT_FOUND = "not_found"

    @property
    def severity(self) -> int:
        """Rank when parts are combined: verbatim < minor < unverifiable < misquote < not_found."""
        return _VERDICT_FACTS[self][0]

    @property
    def confirms(self) -> bool:
        """True where the audio holds the quote's words (verbatim or minor)."""
        return _VERDICT_FACTS[self][1]

    @property
    def meaning(self) -> str:
        """One line a reader of the summary understands."""
        return _VERDICT_FACTS[self][2]

    @classmethod
    def worst(cls, *verdicts: Verdict) -> Verdict:
        """The most severe of ``verdicts``.

        >>> Verdict.worst(Verdict.VERBATIM, Verdict.UNVERIFIABLE)
        <Verdict.UNVERIFIABLE: 'unverifiable'>
        """
        return max((cls(v) for v in verdicts), key=lambda v: v.severity)


_VERDICT_FACTS = {
    Verdict.VERBATIM: (0, True, "every word is in the audio, in order"),
    Verdict.MINOR: (1, True, "the words differ only in form (fillers, number format, spelling)"),
    Verdict.UNVERIFIABLE: (2, False, "the audio is not clear enough to decide: replay the span"),
    Verdict.MISQUOTE: (3, False, "a word added, dropped or changed that the audio contradicts"),
    Verdict.NOT_FOUND: (4, False, "not in any recording"),
}


class WordStatus(TextEnum):
    """How one word of a quote compares with what was heard."""

    MATCH = "match"
    FORM = "form"
    CHANGED = "changed"
    ADDED = "added"
    MISSING = "missing"

    @property
    def meaning(self) -> str:
        """One line a reader understands."""
        return _WORD_MEANINGS[self]

    @property
    def held(self) -> bool:
        """True where the audio holds the quoted word (in this form or another)."""
        return self in (WordStatus.MATCH, WordStatus.FORM)


_WORD_MEANINGS = {
    WordStatus.MATCH: "the quoted word was heard",
    WordStatus.FORM: "heard in another form (number format, spelling, contraction)",
    WordStatus.CHANGED: "another word was heard in its place",
    WordStatus.ADDED: "in the quote, not heard in the audio",
    WordStatus.MISSING: "heard in the audio, left out of the quote",
}


class Role(str, Enum):
    """A speaker's part on the channel."""

    DISPATCHER = "dispatcher"
    UNIT = "unit"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Speaker:
    """A voice or radio unit, with its role and the name shown in tables."""

    label: str
    """The raw label: a voice cluster (``S3``) or a radio unit ID (``1234567``)."""
    role: Role
    """Dispatcher or unit."""
    name: str
    """The display name (``Dispatcher``, ``Unit 2``, or a rename such as ``Beat 833``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))


@dataclass
class Word:
    """One recognised word."""

    start: float
    """Start time in seconds, absolute in the recording."""
    end: float
    """End time in seconds, absolute in the recording."""
    word: str
    """The word as the recogniser wrote it (leading space stripped)."""
    probability: float
    """The recogniser's probability for the word, in [0, 1]."""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"word {self.word!r} ends ({self.end}) before it starts ({self.start})")


@dataclass
class Transmission:
    """One burst of speech between silences: a radio transmission."""

    start: float
    """Start time in seconds, padding included."""
    end: float
    """End time in seconds, padding included."""
    speech_start: float | None = None
    """Where its sound starts, before padding (None where segmentation did not say)."""
    speech_end: float | None = None
    """Where its sound ends, before padding: the pause to the next transmission is that
    one's ``speech_start`` minus this."""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


@dataclass
class Segment:
    """One transcribed stretch of speech, usually one transmission or part of it."""

    segment_id: int
    """Index of the segment in its recording, from 0."""
    start: float
    """Start time in seconds."""
    end: float
    """End time in seconds."""
    text: str
    """The recognised text: the words joined."""
    words: list[Word] = field(default_factory=list)
    """The segment's words, in order."""
    avg_logprob: float = 0.0
    """Mean log-probability the recogniser gave the segment's own text: its words' mean
    (``transcribe.words_logprob``) wherever it has words, so two lines decoded in one packed
    window get figures of their own; Whisper's figure for the decoding pass otherwise."""
    no_speech_prob: float | None = 0.0
    """The recogniser's probability that the decoding window held no speech: one figure per
    window, so it is given only for a segment decoded in a window of its own, and None (blank
    in the tables) for a segment of a packed window, which shares the window with others."""
    compression_ratio: float = 0.0
    """gzip compression ratio of the text (high means repetition loops)."""
    transmission_id: int = -1
    """Index of the transmission the segment came from, -1 if unknown."""
    speaker: str = ""
    """Speaker label (empty until speakers are labelled)."""
    unit: str = ""
    """Radio unit ID keyed up while the segment was spoken (a call's ``srcList``); empty
    where no call metadata names one."""
    unit_tag: str = ""
    """The unit's name (the call's ``tag`` or a unit tags file), empty where unknown."""


class CallSource(TextEnum):
    """Where a call's metadata was read from."""

    TRUNK_RECORDER = "trunk-recorder"
    SDRTRUNK = "sdrtrunk"
    RDIO_SCANNER = "rdio-scanner"
    OPENMHZ = "openmhz"
    BROADCASTIFY = "broadcastify"
    SIDECAR = "sidecar"


@dataclass
class UnitKey:
    """One radio unit keying up inside a call (a trunk-recorder ``srcList`` entry)."""

    start: float
    """Offset in the call's audio where the unit keyed up, seconds (``pos``)."""
    end: float
    """Offset where the next unit keyed up, or the end of the call."""
    unit: str
    """Radio unit ID, empty where the system did not decode one (``src`` -1)."""
    tag: str = ""
    """The unit's name: the call's ``tag``, or the unit tags file's."""
    role: Role | None = None
    """Dispatcher or unit, where the radio metadata says (set when a batch is named)."""
    emergency: bool = False
    """The unit signalled an emergency on this transmission."""


@dataclass
class CallInfo:
    """What the radio system recorded about one call: when, which talkgroup, who keyed up."""

    recording: str
    """The recording the call belongs to."""
    source: CallSource
    """Where the metadata came from."""
    started_at: datetime | None = None
    """Wall-clock start of the audio, with its zone; None where unknown."""
    system: str = ""
    """The radio system's short name (trunk-recorder ``short_name``)."""
    talkgroup: str = ""
    """Talkgroup number (or a channel name where the source has no number)."""
    talkgroup_tag: str = ""
    """Talkgroup alpha tag ("Zone 8 Dispatch")."""
    talkgroup_description: str = ""
    """Talkgroup description."""
    talkgroup_group: str = ""
    """Talkgroup group ("Police")."""
    freq: float | None = None
    """Frequency in Hz."""
    emergency: bool = False
    """The call was flagged as an emergency."""
    encrypted: bool = False
    """The call was encrypted: listed, never transcribed."""
    duration: float | None = None
    """Length the metadata gives, seconds (the audio's own length wins where known)."""
    units: list[UnitKey] = field(default_factory=list)
    """Who keyed up when, in time order (empty where the source does not say)."""
    notes: list[str] = field(default_factory=list)
    """What was wrong with the metadata and what was done about it, one sentence each."""

    def __post_init__(self) -> None:
        self.source = CallSource(self.source)

    def at(self, offset: float) -> datetime | None:
        """Wall-clock time ``offset`` seconds into the call, None where the start is unknown."""
        return None if self.started_at is None else self.started_at + timedelta(seconds=offset)

    def unit_at(self, start: float, end: float) -> UnitKey | None:
        """The unit keyed up for most of [start, end] (the nearest where none overlaps)."""
        if not self.units:
            return None
        mid = (start + end) / 2
        return max(self.units, key=lambda u: (min(u.end, end) - max(u.start, start),
                                              -abs((u.start + u.end) / 2 - mid)))


@dataclass
class Transcript:
    """One recording, transcribed."""

    recording: str
    """The path as the user gave it."""
    sha256: str
    """SHA-256 of the audio file's bytes."""
    duration: float
    """Length of the recording in seconds."""
    model: str
    """Model name or path used."""
    engine: str
    """Engine used: ``faster-whisper`` or ``openai-whisper``."""
    segments: list[Segment] = field(default_factory=list)
    """Transcribed segments, in time order."""
    transmissions: list[Transmission] = field(default_factory=list)
    """Transmissions found by segmentation, in time order."""
    call: CallInfo | None = None
    """The radio system's metadata for the recording (talkgroup, start, units), if any;
    read beside the recording when a batch is tabled, never stored with the transcript."""
    warnings: list[str] = field(default_factory=list)
    """What was wrong with the file though it decoded (cut short of the length its header
    states): the transcript covers only what could be decoded."""

    @property
    def words(self) -> list[Word]:
        """All words of the recording, in time order."""
        return [w for s in self.segments for w in s.words]

    @property
    def speech_seconds(self) -> float:
        """Seconds of audio inside transmissions."""
        return sum(t.duration for t in self.transmissions)


@dataclass
class Failure:
    """A recording the batch could not process."""

    recording: str
    """The path as the user gave it."""
    reason: str
    """A sentence a person can act on."""


@dataclass
class Quote:
    """One quotation taken from a published text (or a quotes table)."""

    quote_id: str
    """Stable identifier, kept in every output (e.g. ``night-the-police-walked-away:3``)."""
    source: str
    """The file the quote came from."""
    text: str
    """The quoted words exactly as published (typography kept)."""
    parts: list[str] = field(default_factory=list)
    """The quote split at ellipses (omissions); one part when there is none."""
    start_char: int = -1
    """Offset of the quote's first character in the source text, -1 if unknown."""
    attributed_to: str = ""
    """Who the text says spoke it ("the dispatcher", "one officer on scene"), or empty."""
    recording: str = ""
    """Restrict the search to this recording, when a quotes table names one."""
    too_short: bool = False
    """One or two words: kept, but too short to verify on its own."""
    talkgroup: str = ""
    """Restrict the search to calls on this talkgroup (number or tag), when given."""
    near: datetime | None = None
    """Restrict the search to calls around this wall-clock time, when given."""
    within_s: float | None = None
    """How far from ``near`` a call may start or end, seconds (see
    ``pipeline.calls.DEFAULT_WITHIN_S`` where ``near`` is given alone)."""


@dataclass
class QuoteWord:
    """One word of a quote, as checked against the audio."""

    quote_id: str
    """The quote the word belongs to."""
    word_index: int
    """Position of the word in the quote, from 0."""
    word: str
    """The word as published."""
    status: WordStatus
    """How the word compares with the audio (``missing``: in the audio, left out of the
    quote; ``word`` is then the audio's word)."""
    start_s: float | None = None
    """Start time in the recording, where the audio holds the word."""
    end_s: float | None = None
    """End time in the recording, where the audio holds the word."""
    probability: float | None = None
    """Probability the judging model gives the quoted word in the quote's context."""
    heard: str = ""
    """What the audio seems to say at this word, where it differs."""

    def __post_init__(self) -> None:
        self.status = WordStatus(self.status)


@dataclass
class QuoteCheck:
    """The verdict on one quote, with the evidence behind it."""

    quote: Quote
    """The quote checked."""
    verdict: Verdict
    """What the audio says of the quote."""
    strength: float
    """How clearly the audio decided, in [0, 1], from the judging model's score margins (a
    fixed figure for a verdict a rule gives): it orders verdicts, it is no probability."""
    recording: str = ""
    """Where the quote was found."""
    start_s: float | None = None
    """Start of the located quote in the recording."""
    end_s: float | None = None
    """End of the located quote in the recording."""
    speaker: str = ""
    """Who spoke the located audio (several joined by `` + `` when it crosses speakers)."""
    heard_text: str = ""
    """What the recogniser heard over the located span."""
    differences: list[str] = field(default_factory=list)
    """Readable differences: 'audio says "anybody out to", quote says "anybody to"'."""
    omitted_text: str = ""
    """Words the audio holds between the parts of an ellipsis quote (or a splice)."""
    context_before: str = ""
    """Words spoken just before the located quote."""
    context_after: str = ""
    """Words spoken just after the located quote."""
    line_id: str = ""
    """Quotes from any source that land on the same stretch of audio share this id."""
    attribution_ok: bool | None = None
    """Does the article's attribution match the speaker? None where it names no one."""
    splice_gap_s: float | None = None
    """Seconds of audio between non-contiguous parts, or across transmissions."""
    listen_start_s: float | None = None
    """Start of the span a person should replay when the verdict is unverifiable."""
    listen_end_s: float | None = None
    """End of that span."""
    doubtful_spans: int = 0
    """For an unverifiable verdict, how many stretches of the quote the audio left undecided."""
    doubt: float = 0.0
    """For an unverifiable verdict, how far the audio leans from the quote at the worst of
    them (1 plus the nats by which the strongest alternative beats it)."""
    review_rank: int | None = None
    """Among the unverifiable quotes of a run, which to listen to first (1: most doubtful:
    the most undecided stretches, then the strongest lean)."""
    reasons: list[str] = field(default_factory=list)
    """Why the verdict was given, step by step."""
    words: list[QuoteWord] = field(default_factory=list)
    """The quote's words with their statuses."""
    confidence: float | None = None
    """How often a verdict of this kind at this strength was right on the development sets
    (see :mod:`pipeline.calibration`); None for ``unverifiable``, which decides nothing."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"strength {self.strength} of {self.quote.quote_id} is not in [0, 1]")

    def __setattr__(self, name, value) -> None:
        if name == "verdict":
            value = Verdict(value)
        super().__setattr__(name, value)
