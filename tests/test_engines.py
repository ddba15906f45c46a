"""Engines on real audio: agreement between the two, word times, invariants, guards."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from pipeline.audio import load_audio
from pipeline.engines import (
    DecodeOptions,
    _clip_of,
    is_hallucination,
    load_engine,
    looping_segments,
)
from pipeline.models import ModelError
from pipeline.records import Segment

DATA = Path(__file__).parent / "data"
SR = 16000
GREEDY = DecodeOptions(beam_size=1, temperature=(0.0,))


def load(name: str) -> np.ndarray:
    """Decode a test file to float32 mono 16 kHz."""
    return load_audio(DATA / name)


def stm_lines(path: Path) -> list[tuple[float, float, str]]:
    """(start, end, text) of each reference line."""
    rows = []
    for line in path.read_text().splitlines():
        _, _, _, start, end, text = line.split(maxsplit=5)
        rows.append((float(start), float(end), text))
    return rows


@pytest.fixture(scope="module")
def phone():
    return load("phone-call.wav")


@pytest.fixture(scope="module")
def fast():
    return load_engine("tiny.en", "faster-whisper")


@pytest.fixture(scope="module")
def openai_engine():
    # One torch thread: on a shared 2-core machine torch's OpenMP workers spin and a
    # 30 s clip takes 4x longer with two threads than with one.
    return load_engine("tiny.en", "openai-whisper", threads=1)


@pytest.fixture(scope="module")
def fast_segments(fast, phone):
    return fast.transcribe(phone, DecodeOptions())


@pytest.fixture(scope="module")
def openai_segments(openai_engine, phone):
    return openai_engine.transcribe(phone, GREEDY)


def words_of(segments):
    return [w for s in segments for w in s.words]


@pytest.mark.slow
def test_the_two_engines_agree_on_the_same_clip(phone, openai_segments):
    float32 = load_engine("tiny.en", "faster-whisper", compute_type="float32")
    reference = float32.transcribe(phone, GREEDY)
    assert [s.text for s in openai_segments] == [s.text for s in reference]
    a, b = words_of(openai_segments), words_of(reference)
    assert [w.word for w in a] == [w.word for w in b]
    assert max(abs(x.start - y.start) for x, y in zip(a, b, strict=True)) <= 0.02
    assert max(abs(x.end - y.end) for x, y in zip(a, b, strict=True)) <= 0.02
    assert max(abs(x.probability - y.probability) for x, y in zip(a, b, strict=True)) <= 0.01
    for x, y in zip(openai_segments, reference, strict=True):
        assert x.avg_logprob == pytest.approx(y.avg_logprob, abs=0.01)
        assert x.no_speech_prob == pytest.approx(y.no_speech_prob, abs=0.01)


@pytest.mark.slow
def test_the_engines_agree_on_multilingual_base(phone):
    clip = phone[14 * SR:19 * SR]
    a = load_engine("base", "openai-whisper", threads=1).transcribe(clip, GREEDY)
    b = load_engine("base", "faster-whisper", compute_type="float32").transcribe(clip, GREEDY)
    assert [s.text for s in a] == [s.text for s in b] and "Chicago" in a[0].text
    for x, y in zip(words_of(a), words_of(b), strict=True):
        assert (x.start, x.end) == pytest.approx((y.start, y.end), abs=0.02)
        assert x.probability == pytest.approx(y.probability, abs=0.01)


def find_phrase(words, phrase: str):
    """The run of words that spells ``phrase`` (case and punctuation ignored), or None."""
    wanted = [_bare(w) for w in phrase.split()]
    bare = [_bare(w.word) for w in words]
    for i in range(len(bare) - len(wanted) + 1):
        if bare[i:i + len(wanted)] == wanted:
            return words[i:i + len(wanted)]
    return None


def _bare(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalnum() or c == "'")


@pytest.mark.parametrize("engine", ["fast_segments", "openai_segments"])
@pytest.mark.slow
def test_sheilas_line_is_where_the_reference_puts_it(engine, request):
    # Reference: "Sheila 14.444 17.769 And I'm Sheila in Texas, originally from Chicago."
    # tiny.en hears "Sheila and Texas"; the words around it must sit at the reference times.
    words = words_of(request.getfixturevalue(engine))
    start = find_phrase(words, "And I'm Sheila")
    end = find_phrase(words, "Texas originally from Chicago")
    assert start and end, [w.word for w in words]
    assert start[0].start == pytest.approx(14.444, abs=0.5)
    assert end[-1].end == pytest.approx(17.769, abs=0.5)


@pytest.mark.parametrize("engine", ["fast_segments", "openai_segments"])
@pytest.mark.slow
def test_every_word_lands_within_half_a_second_of_a_reference_line(engine, request):
    lines = stm_lines(DATA / "phone-call.stm")
    words = words_of(request.getfixturevalue(engine))
    assert len(words) > 60
    for w in words:
        mid = (w.start + w.end) / 2
        assert any(start - 0.5 <= mid <= end + 0.5 for start, end, _ in lines), w


@pytest.mark.parametrize("engine", ["fast_segments", "openai_segments"])
@pytest.mark.slow
def test_invariants(engine, request):
    segments = request.getfixturevalue(engine)
    assert segments
    previous = 0.0
    for seg in segments:
        assert seg.start <= seg.end
        assert seg.segment_id == -1 and seg.transmission_id == -1
        assert "".join(seg.text.split()) == "".join(w.word for w in seg.words)
        for w in seg.words:
            assert w.word == w.word.strip() and w.word
            assert 0.0 <= w.probability <= 1.0
            assert previous <= w.start <= w.end
            assert seg.start - 0.01 <= w.start and w.end <= seg.end + 0.01
            previous = w.start


@pytest.mark.slow
def test_clips_restrict_decoding_to_their_spans(fast, phone):
    segments = fast.transcribe(phone, GREEDY, clips=[(14.0, 18.5)])
    assert segments
    assert all(14.0 <= w.start and w.end <= 18.5 for w in words_of(segments))
    assert "Sheila" in " ".join(s.text for s in segments)


@pytest.mark.slow
def test_a_prompt_biases_recognition_toward_local_names(fast, phone):
    plain = fast.transcribe(phone, GREEDY, clips=[(14.0, 18.5)])
    prompted = fast.transcribe(
        phone, DecodeOptions(beam_size=1, temperature=(0.0,),
                             initial_prompt="Diane in New Jersey, Sheila in Texas."),
        clips=[(14.0, 18.5)])
    assert "Sheila and Texas" in plain[0].text  # tiny.en mishears "in" without help
    assert "Sheila in Texas" in prompted[0].text


@pytest.mark.slow
def test_radio_audio(fast):
    clip = load("apollo11.mp3")[: 9 * SR]
    segments = fast.transcribe(clip, GREEDY)
    text = " ".join(s.text for s in segments)
    assert "recommendation for you" in text  # "Apollo 11, Houston. We got a recommendation..."
    assert all(0.0 <= w.start <= w.end <= 9.0 for w in words_of(segments))


@pytest.mark.slow
def test_silence_gives_no_text_and_says_why(fast, caplog):
    silence = np.zeros(5 * SR, dtype=np.float32)
    raw = fast.transcribe(silence, DecodeOptions(guard=False))
    with caplog.at_level(logging.INFO, logger="pipeline.engines"):
        assert fast.transcribe(silence, DecodeOptions()) == []
    if raw:  # tiny.en says "You" on silence
        assert "dropped" in caplog.text


def test_unknown_engine_is_refused():
    with pytest.raises(ModelError, match="unknown engine"):
        load_engine("tiny.en", "whisper.cpp")


def seg(text, no_speech=0.05, logprob=-0.3, ratio=1.2):
    return Segment(segment_id=0, start=0.0, end=2.0, text=text, avg_logprob=logprob,
                   no_speech_prob=no_speech, compression_ratio=ratio)


HALLUCINATION_CASES = [
    # (segment, reason starts with, or None when the segment is real)
    (seg("Engine 7, respond to 400 Main Street."), None),
    (seg("10-4, copy that."), None),
    (seg("Thank you."), None),  # a unit thanking dispatch, on a confident window
    (seg("Copy, copy."), None),
    (seg(""), "empty text"),
    (seg("  "), "empty text"),
    (seg("Okay.", no_speech=0.8, logprob=-1.3), "silence"),
    (seg("Okay.", no_speech=0.8, logprob=-0.5), None),  # Whisper's rule needs both
    (seg("Okay.", no_speech=0.4, logprob=-1.3), None),
    (seg("the the the the the the the the", ratio=3.1), "repetition: compression ratio"),
    (seg("Go ahead go ahead go ahead go ahead go ahead"), "repetition loop"),
    (seg("Go ahead go ahead go ahead."), None),
    (seg("Thank you for watching!"), "video sign-off"),
    (seg("Thanks for watching."), "video sign-off"),
    (seg("Please subscribe to my channel."), "video sign-off"),
    (seg("Subtitles by the Amara.org community"), "subtitle credit"),
    (seg("[BLANK_AUDIO]"), "sound annotation"),
    (seg("(static)"), "sound annotation"),
    (seg("♪ ♪"), "music symbols"),
    (seg("You", no_speech=0.9, logprob=-0.9), "lone filler"),
    (seg("Thank you.", no_speech=0.5), "lone filler"),
    (seg("You", no_speech=0.1), None),
]


@pytest.mark.parametrize("segment, expected", HALLUCINATION_CASES)
def test_is_hallucination(segment, expected):
    reason = is_hallucination(segment)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and reason.startswith(expected), reason


def test_thresholds_come_from_the_options():
    loose = DecodeOptions(no_speech_threshold=None, compression_ratio_threshold=None)
    assert is_hallucination(seg("Okay.", no_speech=0.8, logprob=-1.3), loose) is None
    assert is_hallucination(seg("a b", ratio=3.0), loose) is None
    assert is_hallucination(seg("copy copy copy", ratio=1.0), DecodeOptions(max_repeats=2))


# --------------------------------------------------------------------------- batching plumbing


@pytest.mark.parametrize("seek, starts, expected", [
    (5587, [0.0, 28.945, 55.875, 84.925], 2),  # segment start 55.87 < clip start 55.875
    (0, [0.0, 28.945], 0),
    (2894, [0.0, 28.945, 55.875], 1),
    (8492, [0.0, 28.945, 55.875, 84.925], 3),
])
def test_batched_segment_goes_to_the_clip_it_came_from(seek, starts, expected):
    assert _clip_of(seek, np.array(starts)) == expected


@pytest.mark.parametrize("texts, expected", [
    (["Okay."] * 5, {n: 5 for n in range(5)}),
    (["Okay."] * 4, {}),  # four repeats are allowed, as inside a segment
    (["Okay.", "Okay.", "Yeah."] + ["okay"] * 6, {n: 6 for n in range(3, 9)}),
    (["Copy.", "Ten four.", "Copy."], {}),
])
def test_a_loop_cut_into_segments_is_found(texts, expected):
    assert looping_segments([seg(t) for t in texts], max_repeats=4) == expected


SAMPLED = DecodeOptions(temperature=(1.0,), guard=False)  # every token drawn at random
DECODE_IN_A_FRESH_PROCESS = """
import sys
from pipeline.engines import DecodeOptions, load_engine
from pipeline.audio import load_audio
clip = load_audio(sys.argv[1])[: 9 * 16000]
engine = load_engine("tiny.en", sys.argv[2], threads=1 if sys.argv[2] == "openai-whisper" else 0)
segments = engine.transcribe(clip, DecodeOptions(temperature=(1.0,), guard=False))
print(" ".join(s.text for s in segments))
"""


@pytest.mark.parametrize("engine", ["faster-whisper", "openai-whisper"])
@pytest.mark.slow
def test_sampled_decoding_gives_the_same_words_in_every_run(engine):
    """The temperature fallback samples; a fresh run over the same audio must still give
    the same words, or a fact-checker's rerun could tell a different story."""
    import subprocess
    import sys

    runs = [subprocess.run([sys.executable, "-c", DECODE_IN_A_FRESH_PROCESS,
                            str(DATA / "apollo11.mp3"), engine],
                           capture_output=True, text=True, check=True).stdout for _ in range(3)]
    assert runs[0].strip() and runs[0] == runs[1] == runs[2], runs


@pytest.mark.slow
def test_sampled_decoding_repeats_within_a_process(openai_engine):
    clip = load("apollo11.mp3")[: 9 * SR]
    texts = [" ".join(s.text for s in openai_engine.transcribe(clip, SAMPLED)) for _ in range(2)]
    assert texts[0] == texts[1], texts


# --- the recognition prompt from an agency's glossary ------------------------------------------

AGENCY_TERMS = ["Beat 833", "Beat 812", "Zone 8 Dispatcher", "Kedzie Ave", "Cicero Ave",
                "Laramie Ave", "79th St", "PD Zone 8", "FD Main"]
"""Terms of an agency glossary: unit names, streets, talkgroup tags."""


@pytest.mark.parametrize("given, limit, expected", [
    (None, 223, ", ".join(AGENCY_TERMS)),
    ("Ten-four, show me en route.", 223, "Ten-four, show me en route., " + ", ".join(AGENCY_TERMS)),
    # " Beat 833, Beat 812, Zone 8 Dispatcher" is 13 tokens, 18 with ", Kedzie Ave"
    (None, 13, "Beat 833, Beat 812, Zone 8 Dispatcher"),
    (None, 17, "Beat 833, Beat 812, Zone 8 Dispatcher"),
    # the given prompt is kept whole; the terms go in while they fit
    ("Ten-four, show me en route.", 12, "Ten-four, show me en route., Beat 833"),
    ("Engine 42 and Truck 7, respond to a structure fire at 79th and Kedzie.", 12,
     "Engine 42 and Truck 7, respond to a structure fire at 79th and Kedzie."),
])
def test_a_glossary_prompt_keeps_the_given_prompt_and_the_first_terms_that_fit(given, limit, expected):
    from pipeline.engines import fit_prompt, prompt_tokens

    prompt = fit_prompt(given, AGENCY_TERMS, "tiny.en", limit)
    assert prompt == expected
    assert prompt_tokens(prompt, "tiny.en") <= limit or prompt == given


def test_a_long_glossary_is_trimmed_to_whispers_prompt_length():
    from pipeline.engines import PROMPT_TOKENS, fit_prompt, prompt_tokens

    streets = [f"{n} {name} Ave" for n in range(100) for name in ("Kedzie", "Pulaski")]
    for model in ("tiny.en", "base"):
        prompt = fit_prompt("Beat 833", streets, model)
        assert prompt.startswith("Beat 833, 0 Kedzie Ave, 0 Pulaski Ave, 1 Kedzie Ave")
        kept = prompt.split(", ")[1:]
        assert kept == streets[:len(kept)] and 20 < len(kept) < len(streets)
        assert prompt_tokens(prompt, model) <= PROMPT_TOKENS
        assert prompt_tokens(prompt + ", " + streets[len(kept)], model) > PROMPT_TOKENS
