"""Judging spans: each doubtful span of the quote against its alternatives, pairwise.

A span is *supported* when the quote beats every alternative by ``margin_nats`` with the
first scorer; *contradicted* when every scorer prefers one local alternative (at most
``max_span_words`` words each way) by ``contradict_nats`` and the quote's own token there
is near-impossible (``min_prob``); else it stays doubtful. Only a small local change
contradicts (at most ``max_contradicted_words`` words each way): an alternative that
rewrites a longer stretch says the recognisers misheard it. An edge word is contradicted
only where the audio holds another word in its place (a word cut off or left out at an
edge is a quote cut short, or a transmission clipped as the radio keyed up), the first
word only by ``first_edge_contradict_nats``; another number there always counts. A number
at an edge that the recognisers heard as no number is supported when it beats every
number one digit away (reported, with lower confidence). Spans longer than
``max_span_words`` are not judged.
"""

from __future__ import annotations

import numpy as np

from pipeline import spoken
from pipeline import text as textmod
from pipeline.adjudicate.candidates import Source
from pipeline.adjudicate.evidence import Evidence, Side
from pipeline.adjudicate.judgement import SpanOutcome, SpanTest, Trial


def split_edges(quote: Side, runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Doubtful runs with the quote's first and last word set apart from the words inside:
    an edge may be clipped (never contradicted) while an edit beside it can be."""
    out = []
    last_word = len(quote.words) - 1
    group = spoken.render_numbers(quote.words)[1]  # words written as one number stay together
    first = [w for w in range(len(quote.words)) if group[w] == group[0]][-1]
    last = [w for w in range(len(quote.words)) if group[w] == group[-1]][0]
    for a, b in runs:
        cuts = {a, b}
        if b > a and quote.word_of[a] <= first < quote.word_of[b - 1]:
            cuts.add(next(i for i in range(a, b) if quote.word_of[i] > first))
        if b > a and quote.word_of[a] < last <= quote.word_of[b - 1] <= last_word:
            cuts.add(next(i for i in range(a, b) if quote.word_of[i] >= last))
        edges = sorted(cuts)
        out += list(zip(edges, edges[1:])) if len(edges) > 2 else [(a, b)]
    return out


def split_forms(quote: Side, runs: list[tuple[int, int]], evidence: list[Evidence]
                ) -> tuple[list[tuple[int, int]], list[tuple[tuple[int, int], list[str]]]]:
    """Set apart the doubtful spans some evidence heard in another form (``812`` for
    ``eight twelve``, ``we are`` for ``we're``).

    Returns:
        (runs still doubtful, [(run, the words heard)] for runs heard in another form).
    """
    doubtful, forms = [], []
    strip = spoken.strip_edges
    for a, b in runs:
        wa, wb = quote.word_range(a, b)
        for e in evidence:
            got = None if e.side is quote else e.reading(quote, a, b)
            if got is None or wb == wa:
                continue
            ga, gb = quote.word_range(got[0], got[1])
            heard = [strip(w) for w in got[2] if strip(w)]
            quoted = [strip(w) for w in quote.words[ga:gb]]
            if heard and (textmod.same_form(quoted, heard) or spoken.same_digits(quoted, heard)
                          or spoken.same_sound(quoted, heard)):
                forms.append(((a, b), heard))
                break
        else:
            doubtful.append((a, b))
    return doubtful, forms


def form_test(quote: Side, run: tuple[int, int], reading: list[str]) -> SpanTest:
    """The record of a span heard in another form."""
    wa, wb = quote.word_range(*run)
    return SpanTest(wa, wb, " ".join(quote.words[wa:wb]), " ".join(reading), outcome=SpanOutcome.FORM)


def judge_span(trial: Trial, k: int, run: tuple[int, int]) -> SpanTest:
    """The pairwise test of doubtful span ``k`` (quote tokens ``run``) against its
    alternatives, on the scores the trial holds so far."""
    quote, options = trial.quote, trial.options
    wa, wb = quote.word_range(*run)
    test = SpanTest(wa, wb, " ".join(quote.words[wa:wb]), "")
    alts = [c for c in trial.alternatives if c.span == k]
    mine = [i for i, c in enumerate(trial.alternatives) if c.span == k]
    positions = trial.positions
    test.quote_prob = float(min(trial.probs[positions[wa]:max(positions[wb], positions[wa] + 1)]))
    if not mine:
        return test
    n = len(trial.scores[0][0].tokens)
    per_alt = np.array([[(s[0].mean - s[i + 1].mean) * n for i in mine] for s in trial.scores])
    best = int(np.argmin(per_alt[0]))
    test.heard = " ".join(alts[best].heard)
    test.margins = [float(m) for m in per_alt.min(axis=1)]
    # only a local edit contradicts: an alternative rewriting a long stretch says the quote
    # was located or heard badly there, not that one word was misquoted; leaving out a
    # word at the quote's edge stands for a quote cut short, never a misquote
    inner = [i for i, c in enumerate(alts) if _local(c, options.max_contradicted_words)
             and not (c.source is Source.DROP and (c.wa == 0 or c.wb == len(quote.words)))
             and not same_words(quote.words[c.wa:c.wb], c.heard)
             and not trial.typos.intersection(range(wa, wb))]
    if inner:
        best = min(inner, key=lambda i: per_alt[0, i])
    if wb - wa > options.max_span_words:
        return test
    rivals = [i for i, c in enumerate(alts) if spoken.all_numbers(c.heard)]
    if per_alt[0].min() >= options.margin_nats:
        test.outcome = SpanOutcome.SUPPORTED
    elif _edge_number(quote, wa, wb, rivals) and per_alt[0, rivals].min() >= options.margin_nats:
        # a number at the edge, where the radio clips the first syllable and the
        # recognisers write no number, is tested against every other number one digit
        # away: which unit spoke is what the audio can still tell
        test.outcome = SpanOutcome.SUPPORTED
        test.unclear = test.heard
        test.margins = [float(m) for m in per_alt[:, rivals].min(axis=1)]
        test.heard = " ".join(alts[min(rivals, key=lambda i: per_alt[0, i])].heard)
    elif inner and _may_contradict(quote, wa, wb, alts[best].heard) \
            and (per_alt[:, best] <= -_needed(trial, quote, wa, alts[best].heard)).all() \
            and test.quote_prob < options.min_prob:
        unknown = textmod.name_heard_as_words(quote.words, wa, wb, alts[best].heard)
        test.outcome = SpanOutcome.DOUBTFUL if unknown else SpanOutcome.CONTRADICTED
    return test


def same_words(quoted: list[str], heard: list[str]) -> bool:
    """Whether an alternative only writes the quote's words in another form (a typo put
    right, an abbreviation spelled out, a number in digits, a homophone): no contradiction.

    >>> same_words(["insretion"], ["insertion"]), same_words(["St."], ["street"])
    (True, True)
    >>> same_words(["in,"], ["on"])
    False
    """
    strip = spoken.strip_edges
    quoted = [strip(w) for w in quoted if strip(w)]
    heard = [strip(w) for w in heard if strip(w)]
    if not quoted or not heard:
        return False
    return bool(textmod.same_form(quoted, heard) or spoken.same_digits(quoted, heard)
                or spoken.same_sound(quoted, heard))


def _local(alt, max_words: int) -> bool:
    """Whether an alternative changes at most ``max_words`` words each way."""
    return alt.wb - alt.wa <= max_words and len(alt.heard) <= max_words


def _edge_number(quote: Side, wa: int, wb: int, rivals: list[int]) -> bool:
    """Whether quote words [wa, wb) are a number at the quote's edge with other numbers
    to test it against."""
    inside = 0 < wa and wb < len(quote.words)
    return not inside and spoken.all_numbers(quote.words[wa:wb]) and bool(rivals)


def _may_contradict(quote: Side, wa: int, wb: int, heard: list[str]) -> bool:
    """Whether the audio may contradict quote words [wa, wb) with ``heard``: inside the
    quote, or anywhere where it plainly says another number (a unit number misquoted). An
    edge word may be clipped by the radio keying up late."""
    inside = 0 < wa and wb < len(quote.words)
    return inside or _other_number(quote.words[wa:wb], heard) or _edge_substitution(quote, wa, wb, heard)


def _other_number(quoted: list[str], heard: list[str]) -> bool:
    """Whether the audio plainly says another number than the quote."""
    return (spoken.all_numbers(quoted) and spoken.all_numbers(heard)
            and not spoken.same_digits(quoted, heard))


def _edge_substitution(quote: Side, wa: int, wb: int, heard: list[str]) -> bool:
    """Whether the audio holds another whole word in place of the quote's one edge word.
    Numbers are left to :func:`_other_number`: a number in digits ("0.22") is said in
    words ("zero decimal two two"), whose first word is no other word."""
    cores = [spoken.strip_edges(w) for w in heard]
    quoted = quote.words[wa:wb]
    return (wb - wa == 1 and len(cores) == 1 and len(cores[0]) >= 3 and cores[0].isalpha()
            and not spoken.all_numbers(cores) and not any(ch.isdigit() for ch in quoted[0]))


def _needed(trial: Trial, quote: Side | None = None, wa: int = -1, heard=()) -> float:
    """The margin that contradicts: larger when one scorer judges alone, and for another
    word in place of the quote's first (where a radio clips the first syllable)."""
    options = trial.options
    needed = options.contradict_nats if trial.n_scorers > 1 else options.single_contradict_nats
    if quote is not None and wa == 0 and not _other_number(quote.words[:1], list(heard)):
        needed = max(needed, options.first_edge_contradict_nats)
    return needed
