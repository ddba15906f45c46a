"""How a located quote part is judged: every threshold and confidence number, named."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AdjudicateOptions:
    """How a located quote part is judged on its audio.

    The margins decide verdicts; the confidence numbers only say how sure a verdict is
    (they order quotes of one verdict and never change one). Figures quoted below come
    from ``bench/bench_verify.py`` (radio samples, held-out radio calls, the phone call and
    its radio-degraded copy, Apollo 11); the history of each value is in git.
    """

    margin_nats: float = 1.0
    """The quote must beat each alternative by this much (nats, over the whole text) to
    count a doubtful span as supported by the audio. Unchanged since the first cut of
    the benchmark; lower confirms more true lines the recognisers misheard, and more
    misquotes whose alternative the models barely prefer."""
    contradict_nats: float = 6.0
    """Every scorer must prefer one alternative by at least this much to contradict the
    quote. 2 in the first cut, raised to 6 with the first tests on real audio. On the four
    benchmark sets the worst true function-word span loses by 3.5 nats while edited ones
    (``to``/``from``, an added ``all``, a dropped ``the``) lose by 6.5-12 with both
    scorers: lower catches more edits, at the cost of true lines called ``misquote``."""
    single_contradict_nats: float = 10.0
    """The margin needed when only one scorer judges: a single model is self-biased (where
    it mishears, it scores its own words far above the truth), so one witness needs a
    larger margin. 6 in the first cut, 10 with ``contradict_nats`` at 6."""
    max_contradicted_words: int = 2
    """Most quote words (and heard words) an alternative may change to contradict the
    quote: a misquote is a word or two changed; an alternative rewriting a longer stretch
    ("Our insertion checklist" heard as "information") says the recognisers misheard it.
    Was ``max_span_words`` (4) until true lines of real air-to-ground radio were called
    misquotes that way (``bench/bench_verify.py --sets a2g-dev``); every edit the
    benchmark makes changes one or two words."""
    first_edge_contradict_nats: float = 10.0
    """The margin every scorer needs to contradict the quote's first word with another
    word (not a number): a radio keyed up late clips the first syllable, and the
    recognisers then write some other word there. As ``single_contradict_nats``."""
    min_prob: float = 0.05
    """The quote's own token in a contradicted span must get less than this probability."""
    context_s: float = 1.0
    """Seconds of audio kept on each side of the located span (see :func:`cut_window`)."""
    beam_size: int = 5
    """Beam hypotheses the judge adds as evidence of what was heard, decoded only when the
    transcript's words and the judge's top predictions (``top1_prob``) leave part of the
    quote unheard, once per window (cached on it); 0 turns it off."""
    top1_prob: float = 0.3
    """A quote word counts as heard by the judge when, teacher-forced in the quote's
    context, each of its tokens is the judge's top prediction and the first gets at least
    this probability (what greedy decoding would have written there); 0 turns this off."""
    witness_evidence: bool = True
    """Whether the witnesses' top predictions and beam hypotheses also count as heard."""
    max_span_words: int = 4
    """Doubtful spans longer than this stay doubtful: a pairwise test judges local
    differences, not a stretch the recognisers did not hear at all."""
    top_k: int = 5
    """Tokens considered at each position when taking the model's top prediction: the
    likeliest word other than the quote's (an alternative) and the judge's likeliest
    tokens to swap in (``token_alternatives`` of them). 5 since the first cut: the
    alternatives come from the first two or three, and more costs only the top-k."""
    token_alternatives: int = 2
    """Per token of a doubtful span, how many of the judge's likeliest other tokens of the
    same kind (word or digits) are swapped in as alternatives; 0 turns this off."""
    max_alternatives: int = 24
    """Most alternative texts scored per quote (nearest spans first), besides the numbers
    one digit away from a number in a doubtful span (all of those are scored)."""
    max_dropped_words: int = 2
    """A doubtful span of at most this many words is also tested with its words left out
    (an alternative for words the quote added)."""
    min_words: int = 3
    """Quotes with fewer words are ``unverifiable`` (too short to judge)."""
    max_contradicted_share: float = 0.34
    """A ``misquote`` needs the audio to contradict at most this share of the quote's words
    (a junction counts as one). Where it contradicts more, this is likely another
    transmission that shares the quote's call signs ("Eight twelve, we're on scene" for
    "Eight twelve, we're turning around"), not a misquote of it: ``unverifiable``."""
    listen_pad_s: float = 0.5
    """Seconds added on each side of a doubtful span's times for the replay span."""
    context_words: int = 4
    """Words heard just before and after the quote, reported with the judgement."""
    misquote_confidence_nats: float = 4.0
    """A misquote's confidence is ``1 - exp(-m / this)``, ``m`` the smallest margin by
    which a scorer contradicts the quote: 0.78 at 6 nats (the least two scorers need),
    0.92 at 10. Unchanged since the first cut."""
    clear_doubtful_share: float = 0.25
    """A misquote is heard clearly when the audio leaves at most this share of the quote's
    other words undecided; where it leaves more (rough radio, a line misheard throughout),
    its confidence is at most ``unclear_misquote_confidence``. The true lines of real
    air-to-ground radio called misquotes had half their words undecided
    (``bench/bench_verify.py --sets a2g-dev``)."""
    unclear_misquote_confidence: float = 0.8
    """Most confidence a misquote gets where the audio around it is unclear (see
    ``clear_doubtful_share``): below the 0.9 at which a misquote must be right 9 times in 10."""
    heard_confidence: float = 0.99
    """Confidence of ``verbatim`` or ``minor`` when the recognisers heard every word and no
    pairwise test was needed. Unchanged since the first cut."""
    supported_doubt: float = 0.5
    """With ``supported_confidence_nats``: a quote confirmed by pairwise tests gets
    confidence ``1 - supported_doubt * exp(-m / supported_confidence_nats)``, ``m`` its
    smallest winning margin (0.70 at ``margin_nats``, approaching 1 as ``m`` grows).
    Unchanged since the first cut."""
    supported_confidence_nats: float = 2.0
    """See ``supported_doubt``."""
    edge_number_confidence: float = 0.75
    """Most confidence a quote gets when a number at its edge was favoured over every
    number one digit away but heard by no recogniser (a radio clipped as it keyed up):
    the number is favoured, not heard. Set with that test."""
    unverifiable_confidence: float = 0.5
    """Confidence of ``unverifiable``: the audio left a span undecided."""
    too_short_confidence: float = 0.0
    """Confidence of a quote too short to judge (below ``min_words``): no judgement."""
    too_short_doubt: float = 0.5
    """Where a quote too short to judge ranks for review: after every quote with a
    stretch the audio left undecided (their doubt is 1 plus the nats of the lean)."""
