"""The records of one quote part's trial: what the span tests and the verdict read
(:class:`Trial`), and what comes out (:class:`SpanTest`, :class:`WordJudgement`,
:class:`Judgement`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.records import TextEnum, Verdict, Word, WordStatus

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.adjudicate.candidates import Alternative
    from pipeline.adjudicate.evidence import Evidence, Side
    from pipeline.adjudicate.options import AdjudicateOptions
    from pipeline.scoring import TextScore


class SpanOutcome(TextEnum):
    """What the audio says of one doubtful span of a quote: ``supported`` (the quote beat
    every alternative there), ``contradicted`` (every scorer prefers one local alternative
    by a wide margin), ``doubtful`` (neither: a person should replay it), or ``form``
    (heard, in another form: ``812`` for ``eight twelve``)."""

    SUPPORTED = "supported"
    CONTRADICTED = "contradicted"
    DOUBTFUL = "doubtful"
    FORM = "form"

    @property
    def holds(self) -> bool | None:
        """Whether the audio holds the quote's words there: True, False (contradicted), or
        None (undecided)."""
        return {SpanOutcome.SUPPORTED: True, SpanOutcome.FORM: True,
                SpanOutcome.CONTRADICTED: False}.get(self)


@dataclass
class WordJudgement:
    """What the audio says about one word of the quote (or one the quote lacks)."""

    word: str
    """The word as quoted; empty for a ``missing`` word (one the audio has and the quote lacks)."""
    index: int
    """Position of the word in the quote's words; for a ``missing`` word, the position
    it would take."""
    status: WordStatus
    """How the word compares with the audio (see :class:`pipeline.records.WordStatus`)."""
    heard: str
    """What the audio seems to say there (empty for ``added``)."""
    start: float
    """Start in seconds, absolute in the recording, from forced alignment of the quote."""
    end: float
    """End in seconds, absolute in the recording (equal to ``start`` suggests absence)."""
    probability: float
    """Teacher-forced probability of the word in the quote's context, in [0, 1]."""
    supported: bool | None = None
    """True when heard or won its pairwise test, False when the audio contradicts it,
    None when undecided."""

    def __post_init__(self) -> None:
        self.status = WordStatus(self.status)


@dataclass
class SpanTest:
    """One doubtful span of the quote and the pairwise test that judged it."""

    word_start: int
    """First quote word of the span."""
    word_end: int
    """One past the last quote word (equal to ``word_start`` for a junction)."""
    quoted: str
    """The quote's words there (empty for a junction)."""
    heard: str
    """The strongest alternative's words there."""
    margins: list[float] = field(default_factory=list)
    """Per scorer, the quote's score minus the strongest alternative's (nats; positive
    favours the quote)."""
    quote_prob: float = 1.0
    """Lowest teacher-forced probability of the quote's tokens in the span (first scorer)."""
    outcome: SpanOutcome = SpanOutcome.DOUBTFUL
    """What the audio says of the span."""
    unclear: str = ""
    """For a number at the quote's edge supported against every other number while the
    recognisers heard no number there: what they heard instead (``Hey well`` for ``Eight
    twelve``, a transmission's first syllable clipped as the radio keyed up)."""

    def __setattr__(self, name, value) -> None:
        if name == "outcome":
            value = SpanOutcome(value)
        super().__setattr__(name, value)


@dataclass
class Judgement:
    """The verdict on one located quote part, with the evidence a person can read."""

    verdict: Verdict
    """``verbatim``, ``minor``, ``misquote`` or ``unverifiable``."""
    confidence: float
    """How sure the verdict is, in [0, 1]."""
    words: list[WordJudgement] = field(default_factory=list)
    """One judgement per quote word, plus ``missing`` words, in order."""
    differences: list[str] = field(default_factory=list)
    """Readable differences: ``audio says "anybody out to", quote says "anybody to"``."""
    heard_text: str = ""
    """What the recogniser heard over the quote's span."""
    listen_start: float = 0.0
    """Start of the span to replay (seconds, absolute), for doubtful verdicts."""
    listen_end: float = 0.0
    """End of the span to replay (seconds, absolute)."""
    doubt: float = 0.0
    """Ranking key for review: higher is more doubtful."""
    spans: list[SpanTest] = field(default_factory=list)
    """The pairwise tests behind the verdict."""
    said_before: str = ""
    """Words heard just before the quote (a quote cut short is not a misquote)."""
    said_after: str = ""
    """Words heard just after the quote."""
    fit: float = float("-inf")
    """How well the quote fits this audio: the judge's mean log-probability per token of
    the quote's own tokens, in context. Of two places a quote may come from, the audio
    fits it better where it was said."""

    def __setattr__(self, name, value) -> None:
        if name == "verdict":
            value = Verdict(value)
        super().__setattr__(name, value)

    @property
    def held(self) -> int:
        """Quote words the audio holds here (heard, or won their pairwise test)."""
        return sum(1 for w in self.words if w.word and w.supported)


@dataclass
class Trial:
    """One quote part on trial: everything its span tests and its verdict read."""

    quote: Side
    """The quote's words and tokens."""
    transcript: Evidence
    """The recogniser's words over the window, aligned to the quote."""
    heard_words: list[Word]
    """The recogniser's words over the window (absolute times)."""
    window_start_s: float
    """Where the window starts in the recording, seconds."""
    options: AdjudicateOptions
    """Thresholds."""
    n_scorers: int
    """How many scorers judge a contradiction (the margin it needs depends on it)."""
    alternatives: list[Alternative] = field(default_factory=list)
    """The texts the quote is tested against."""
    scores: list[list[TextScore]] = field(default_factory=list)
    """Per scorer asked so far, the quote's score then each alternative's."""
    probs: list[float] = field(default_factory=list)
    """The judge's probability of each of the quote's tokens, in context."""
    positions: list[int] = field(default_factory=list)
    """Token index of each quote word's first token in the scored text, then the end."""
    typos: set[int] = field(default_factory=set)
    """Quote words written as a typo of a word the judge knows (``insretion``): the audio
    cannot contradict them, only the word they stand for."""
