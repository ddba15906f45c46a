"""Teacher-forced scoring on real audio with the real base model (tests/data/phone-call.wav)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
CALL = DATA / "phone-call.wav"
slow = pytest.mark.slow  # every test on audio loads the real base model

TRUE = "And I'm Sheila in Texas, originally from Chicago."
EDITED = "And I'm Sheila in Dallas, originally from Chicago."
START, END = 14.444, 17.769  # from the STM reference


@pytest.fixture(scope="module")
def scorer():
    from pipeline.scoring import Scorer

    return Scorer.load("base")


@pytest.fixture(scope="module")
def ctx(scorer):
    from pipeline.audio import load_audio

    samples = load_audio(CALL)
    return scorer.encode(samples[int(14.2 * 16000):int(18.0 * 16000)])


@slow
def test_true_version_beats_one_word_edit(scorer, ctx):
    true, edited = scorer.score(ctx, [TRUE, EDITED])
    assert true.mean > edited.mean
    assert true.sum - edited.sum > 5  # a clear clip separates one word by several nats


@slow
def test_score_holds_every_token_and_end_of_text(scorer, ctx):
    (s,) = scorer.score(ctx, [TRUE])
    assert s.tokens[-1] == scorer.eot and s.token_strs[-1] == "<|endoftext|>"
    assert len(s.logprobs) == len(s.tokens) == len(scorer.tokens(TRUE)) + 1
    assert s.mean == pytest.approx(np.mean(s.logprobs))
    assert all(lp <= 0 for lp in s.logprobs)


@slow
def test_batching_does_not_change_scores(scorer, ctx):
    alone = scorer.score(ctx, [EDITED])[0].logprobs
    batched = scorer.score(ctx, [TRUE, "Hello.", EDITED])[2].logprobs
    assert np.allclose(alone, batched, atol=1e-3)


@slow
def test_alternatives_name_what_was_said(scorer, ctx):
    alts = scorer.alternatives(ctx, EDITED, k=3)
    position = [t for t in scorer.score(ctx, [EDITED])[0].token_strs].index(" Dallas")
    assert alts[position][0][0] == " Texas"
    assert len(alts) == len(scorer.tokens(EDITED)) + 1


@slow
def test_forced_alignment_lands_within_half_a_second(scorer, ctx):
    words = scorer.align(ctx, TRUE)
    assert [w.word for w in words] == TRUE.split()
    assert abs(14.2 + words[0].start - START) < 0.5
    assert abs(14.2 + words[-1].end - END) < 0.5
    assert all(b.start >= a.start for a, b in zip(words, words[1:]))


@slow
def test_alignment_is_whispers_find_alignment():
    """Alignment from the attention kept by a scoring pass gives what
    ``whisper.timing.find_alignment`` gives with its own decoder pass (at 30 s, where
    Whisper's encoder takes the window as is)."""
    from whisper.timing import find_alignment

    from pipeline.audio import load_audio
    from pipeline.scoring import Scorer

    full = Scorer.load("base")
    full.min_context_s = 30.0
    got = full.encode(load_audio(CALL)[int(14.2 * 16000):int(18.0 * 16000)])
    for text in (TRUE, EDITED, "And I'm Sheila."):
        theirs = find_alignment(full.model, full.tokenizer, full.tokens(text), got.mel, got.num_frames)
        ours = full._timings(full.tokens(text), *full.align_attention(got, text), got.num_frames)
        assert [t.word for t in ours] == [t.word for t in theirs]
        assert np.allclose([t.start for t in ours], [t.start for t in theirs], atol=0.021)
        assert np.allclose([t.end for t in ours], [t.end for t in theirs], atol=0.021)
        assert np.allclose([t.probability for t in ours], [t.probability for t in theirs], atol=1e-3)


@slow
def test_aligning_a_text_just_scored_runs_no_decoder_pass(scorer, ctx, monkeypatch):
    scorer.score_with_alternatives(ctx, EDITED)
    expected = scorer.align(ctx, EDITED)
    ctx.attention.clear()
    scorer.score_with_alternatives(ctx, EDITED)
    monkeypatch.setattr(scorer, "_hidden", lambda *a: pytest.fail("decoder ran again"))
    assert scorer.align(ctx, EDITED) == expected


@slow
def test_text_absent_from_the_audio_gets_near_zero_probability(scorer, ctx):
    words = scorer.align(ctx, "The trash truck struck the bridge on Main Street.")
    assert np.median([w.probability for w in words]) < 0.05
    assert np.median([w.probability for w in scorer.align(ctx, TRUE)]) > 0.5


@slow
def test_beam_hypotheses_hear_the_line(scorer, ctx):
    hyps = scorer.hypotheses(ctx, beam_size=2)
    assert 1 <= len(hyps) <= 2
    assert "Chicago" in hyps[0]


@slow
def test_a_window_is_encoded_once(scorer, ctx):
    from pipeline.audio import load_audio

    samples = load_audio(CALL)[int(14.2 * 16000):int(18.0 * 16000)]
    assert scorer.encode(samples) is scorer.encode(samples.copy()) is ctx


@slow
def test_score_with_alternatives_matches_the_two_calls(scorer, ctx):
    own, alts = scorer.score_with_alternatives(ctx, EDITED, k=3)
    assert np.allclose(own.logprobs, scorer.score(ctx, [EDITED])[0].logprobs, atol=1e-4)
    assert [a[0][0] for a in alts] == [a[0][0] for a in scorer.alternatives(ctx, EDITED, k=3)]


@slow
def test_cached_cross_attention_gives_the_models_own_logits(scorer, ctx):
    import torch

    ids = torch.tensor([scorer.sot + scorer.tokens(TRUE)] * 2)
    with torch.no_grad():
        expected = scorer.model.logits(ids, ctx.features.expand(2, -1, -1))
    assert torch.allclose(scorer._project(scorer._hidden(ctx, ids)), expected, atol=1e-3)


@slow
def test_texts_sharing_a_beginning_score_as_the_model_does_on_each(scorer, ctx):
    import torch

    texts = [TRUE, EDITED, TRUE.replace("Chicago", "Boston")]  # shared prefixes, one row each
    got = scorer.score(ctx, texts)
    for text, score in zip(texts, got):
        ids = torch.tensor([scorer.sot + scorer.tokens(text) + [scorer.eot]])
        with torch.no_grad():
            logprobs = torch.log_softmax(scorer.model.logits(ids, ctx.features), dim=-1)[0]
        start = len(scorer.sot) - 1
        expected = [logprobs[start + i, t].item() for i, t in enumerate(score.tokens)]
        assert np.allclose(score.logprobs, expected, atol=1e-3)


@slow
def test_a_short_window_is_encoded_on_the_shortest_context(scorer, ctx):
    from pipeline.scoring import MIN_CONTEXT_SECONDS

    assert ctx.features.shape[1] == int(MIN_CONTEXT_SECONDS * 50)  # a 3.8-s window
    assert ctx.mel.shape[-1] == 2 * ctx.features.shape[1]


@slow
def test_at_30_s_the_encoder_is_whispers_own():
    import torch

    from pipeline.audio import load_audio
    from pipeline.scoring import Scorer

    full = Scorer.load("tiny.en")
    full.min_context_s = 30.0
    got = full.encode(load_audio(CALL)[:int(5 * 16000)])
    with torch.no_grad():
        expected = full.model.embed_audio(got.mel.unsqueeze(0))
    assert got.features.shape[1] == 1500
    assert torch.allclose(got.features, expected, atol=1e-4)


@slow
def test_the_shorter_context_still_tells_the_true_line_from_the_edit(scorer):
    """The same window on 30 s and on the shortest context: the true line wins on both,
    by a margin of the same size."""
    from pipeline.audio import load_audio

    window = load_audio(CALL)[int(14.2 * 16000):int(18.0 * 16000)]
    margins = []
    for context in (30.0, scorer.min_context_s):
        scorer.min_context_s, kept = context, scorer.min_context_s
        true, edited = scorer.score(scorer.encode(window), [TRUE, EDITED])
        scorer.min_context_s = kept
        margins.append(true.sum - edited.sum)
    assert all(m > 3 for m in margins), margins
    assert abs(margins[0] - margins[1]) < 0.5 * margins[0], margins


def test_the_scorer_implements_the_interface_judging_relies_on():
    import inspect

    from pipeline.scoring import Scorer, TextScorer

    methods = [n for n, v in vars(TextScorer).items() if inspect.isfunction(v) and not n.startswith("_")]
    assert methods and "name" in TextScorer.__annotations__
    for name in methods:
        wanted = list(inspect.signature(getattr(TextScorer, name)).parameters)
        assert list(inspect.signature(getattr(Scorer, name)).parameters) == wanted, name
