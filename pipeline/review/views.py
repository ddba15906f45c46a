"""What a card shows, computed once for the app and the exported report.

Plain records in, plain records out: the templates only lay them out (and escape them).
Wording follows what the tools know: the recogniser *heard* words; nobody here says
what "the audio says".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from pipeline.records import Verdict, WordStatus
from pipeline.review.results import Card, Recording, Results
from pipeline.review.store import CHOICES, Decision, Match

_AUDIO_SAYS = re.compile(r'\baudio says "')
_QUOTE_SAYS = re.compile(r'(?<!the )\bquote says "')


@dataclass
class Token:
    """One word of the quote's diff against what the recogniser heard."""

    text: str
    """The word shown."""
    status: WordStatus
    """How it compares."""
    title: str
    """What it means, in a reporter's words (shown on hover and to screen readers)."""


@dataclass
class Version:
    """Another published version of the same line."""

    quote_id: str
    """Its quote id."""
    source: str
    """Where it was published."""
    text: str
    """Its words."""
    verdict: Verdict
    """Verify's verdict on it."""
    favour: str
    """What the audio favours among the versions, as verify scored them."""


@dataclass
class CardView:
    """Everything a card shows."""

    card: Card
    """The quote."""
    index: int
    """Position in review order, from 1."""
    match: Match
    """Its decision as it stands."""
    tokens: list[Token]
    """The word-level diff."""
    versions: list[Version]
    """Other versions of the line."""
    favour: str
    """What the audio favours among the line's versions (this one's reason), or empty."""
    differences: list[str]
    """Verify's differences, worded as what the recogniser heard."""
    reasons: list[str]
    """Verify's reasons, worded likewise."""
    recording: Recording | None
    """The recording, when the workspace holds it."""
    problem: str
    """Why no audio can be played, or empty."""
    marks: dict = field(default_factory=dict)
    """Times drawn on the waveform: clip, span, words, transmissions (seconds)."""
    wall: str = ""
    """Start and end as wall-clock time, where known."""

    @property
    def final_verdict(self) -> Verdict:
        """The reviewer's verdict where one applies, else the audio's."""
        current = self.match.current
        return current.verdict if current else self.card.verdict

    @property
    def decision(self) -> Decision | None:
        """The decision that applies, or None."""
        return self.match.current


def reword(text: str) -> str:
    """Verify's wording turned into what a reporter reads correctly.

    >>> reword('audio says "For", quote says "Per"')
    'the recogniser heard "For", the quote says "Per"'
    """
    return _QUOTE_SAYS.sub('the quote says "', _AUDIO_SAYS.sub('the recogniser heard "', text))


def tokens(card: Card) -> list[Token]:
    """The quote's words with their statuses, in reading order."""
    out = []
    for w in card.words:
        heard = f"the recogniser heard \u201c{w.heard}\u201d" if w.heard else ""
        title = {
            WordStatus.MATCH: "heard as quoted",
            WordStatus.FORM: f"heard in another form{': ' + w.heard if w.heard else ''}",
            WordStatus.CHANGED: heard or "the recogniser heard another word here",
            WordStatus.ADDED: "in the quote; the recogniser did not hear it",
            WordStatus.MISSING: "the recogniser heard this; the quote leaves it out",
        }[w.status]
        out.append(Token(w.word, w.status, title))
    return out


def favour_reason(card: Card) -> str:
    """The reason naming which version of the line the audio favours, if any."""
    return next((reword(r) for r in card.reasons if "versions of this line" in r), "")


def card_view(results: Results, card: Card, index: int, found: Match) -> CardView:
    """Build what a card shows.

    Args:
        results: The results folder.
        card: The quote.
        index: Its position in review order, from 1.
        found: Its decision as it stands.

    Returns:
        The card's view.
    """
    rec = results.recordings.get(card.recording) if card.recording else None
    problem = ""
    if card.located and rec is None:
        problem = f"the workspace holds no transcript of {card.recording}: its audio is not served"
    elif rec is not None and rec.problem:
        problem = rec.problem
    versions = [Version(o.quote_id, o.source, o.text, o.verdict, favour_reason(o))
                for o in results.line(card)]
    return CardView(
        card=card, index=index, match=found, tokens=tokens(card), versions=versions,
        favour=favour_reason(card), differences=[reword(d) for d in card.differences],
        reasons=[reword(r) for r in card.reasons if "versions of this line" not in r],
        recording=rec, problem=problem, marks=marks(card, rec), wall=wall_span(card, rec),
    )


def marks(card: Card, rec: Recording | None) -> dict:
    """Times to draw on the card's waveform, in seconds of the recording."""
    if not card.located:
        return {}
    start, end = card.clip
    words = [[w.start_s, w.end_s, str(w.status)] for w in card.words
             if w.start_s is not None and w.end_s is not None]
    edges = []
    for t in (rec.transmissions if rec else []):
        a = t.speech_start if t.speech_start is not None else t.start
        b = t.speech_end if t.speech_end is not None else t.end
        if b >= start and a <= end:
            edges.append([round(a, 3), round(b, 3)])
    return {"clip": [round(start, 3), round(end, 3)], "span": [card.start_s, card.end_s],
            "listen": list(card.span), "words": words, "transmissions": edges}


def clock(seconds: float | None) -> str:
    """File time as ``m:ss.ss`` (``h:mm:ss.ss`` past an hour).

    >>> clock(92.45), clock(3723.5)
    ('1:32.45', '1:02:03.50')
    """
    if seconds is None:
        return ""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{int(h)}:{int(m):02d}:{s:05.2f}" if h else f"{int(m)}:{s:05.2f}"


def wall_span(card: Card, rec: Recording | None) -> str:
    """The span as wall-clock time, where the recording's start is known."""
    if not card.located or rec is None or rec.wall_clock is None:
        return ""
    a = rec.wall_clock + timedelta(seconds=card.start_s)
    b = rec.wall_clock + timedelta(seconds=card.end_s)
    zone = " UTC" if a.tzinfo else ""
    return f"{a:%Y-%m-%d %H:%M:%S}\u2013{b:%H:%M:%S}{zone}"


def choices() -> list[tuple[int, str, str]]:
    """The decision buttons: key, verdict value, words."""
    return [(i, str(v), words) for i, (v, words) in enumerate(CHOICES, start=1)]


def environment():
    """The Jinja2 environment of the review templates, autoescaping everything."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline.review", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )
    env.filters["clock"] = clock
    env.globals["choices"] = choices()
    return env
