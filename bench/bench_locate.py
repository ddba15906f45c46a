"""Benchmark: locate 1,000 quotes in 100 hours of synthetic transcripts.

Speech is generated at ~150 words a minute from a realistic vocabulary (the GPT-2
word list that ships with openai-whisper, sampled by rank with a Zipf law, mixed with
radio phrases and numbers), then "recognised" with a given word error rate
(substitutions, half of them near misses; deletions; insertions). Quotes are stretches
of the true speech (so they must be found through the errors) or of fresh speech that
is in no transcript (so they must not be). Prints seconds for the index build and for
locating, seconds per quote, and how often the right place came first.

Usage:
    .venv/bin/python bench/bench_locate.py [--hours 100] [--quotes 1000] [--wer 0.5]
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipeline.locate import WordIndex  # noqa: E402
from pipeline.records import Quote, Segment, Transcript, Word  # noqa: E402

RADIO = [
    "ten four", "copy that", "units responding", "show me en route", "on scene",
    "per the chief of patrol", "clear out", "we're not responding", "stand by",
    "shots fired", "suspect fled on foot westbound", "male hispanic wearing all black",
    "hit and run", "offending vehicle", "need an ambulance", "squad car", "go ahead",
    "can you repeat", "that location", "all units", "in custody", "traffic stop",
]
"""Phrases dispatch traffic repeats; they make absent quotes hard negatives."""
SHORT_WORDS = frozenset("a i an as at be by do go he if in is it me my no of on or so to up us we"
                        .split())
"""Words of one or two letters kept from the token list (the rest are word pieces)."""
WORDS_PER_MINUTE = 150
"""Speaking rate."""


def vocabulary(limit: int = 20000) -> list[str]:
    """Common English words, most frequent first (from whisper's GPT-2 token list)."""
    try:
        import whisper

        path = Path(whisper.__file__).parent / "assets" / "gpt2.tiktoken"
        words = []
        for line in path.read_text().splitlines():
            token = base64.b64decode(line.split()[0]).decode("utf-8", "ignore")
            word = token[1:]
            if token.startswith(" ") and word.isalpha() and word.islower() \
                    and (len(word) > 2 or word in SHORT_WORDS):
                words.append(word)
        return list(dict.fromkeys(words))[:limit]
    except (ImportError, OSError):
        text = " ".join(p.read_text() for p in Path("tests/data/articles").glob("*.txt"))
        return list(dict.fromkeys(w.strip(".,“”’:;") .lower() for w in text.split()))


def speech(rng: np.random.Generator, vocab: list[str], n: int) -> list[str]:
    """n words of plausible dispatch speech."""
    ranks = np.arange(1, len(vocab) + 1)
    p = 1.0 / ranks
    p /= p.sum()
    picks = rng.choice(len(vocab), size=n, p=p)
    out: list[str] = []
    for k in picks:
        r = rng.random()
        if r < 0.04:
            out += RADIO[int(rng.integers(len(RADIO)))].split()
        elif r < 0.06:
            out.append(str(int(rng.integers(1, 2000))))
        else:
            out.append(vocab[k])
    return out[:n]


def near_miss(rng: np.random.Generator, word: str) -> str:
    """A plausible misrecognition: one letter changed, or a letter dropped."""
    if len(word) < 3:
        return word + "s"
    i = int(rng.integers(1, len(word)))
    if rng.random() < 0.5:
        return word[:i] + word[i + 1:]
    return word[:i] + "aeiourtns"[int(rng.integers(9))] + word[i + 1:]


def recognise(rng: np.random.Generator, words: list[str], vocab: list[str],
              wer: float) -> list[str]:
    """The words as a poor recogniser would write them."""
    out = []
    for w in words:
        r = rng.random()
        if r < wer * 0.7:
            out.append(near_miss(rng, w) if rng.random() < 0.5
                       else vocab[int(rng.integers(min(3000, len(vocab))))])
        elif r < wer * 0.85:
            continue
        else:
            out.append(w)
        if rng.random() < wer * 0.15:
            out.append(vocab[int(rng.integers(300))])
    return out


def transcript(name: str, heard: list[str], rng: np.random.Generator) -> Transcript:
    """Words laid out in time as transmissions of 5-25 words with silences between."""
    step = 60.0 / WORDS_PER_MINUTE
    segments, t, i = [], 0.0, 0
    while i < len(heard):
        n = int(rng.integers(5, 26))
        chunk = heard[i:i + n]
        words = [Word(t + k * step, t + (k + 0.8) * step, w, 0.5) for k, w in enumerate(chunk)]
        end = t + len(chunk) * step
        segments.append(Segment(len(segments), t, end, " ".join(chunk), words,
                                transmission_id=len(segments)))
        t, i = end + float(rng.uniform(0.5, 4.0)), i + n
    return Transcript(name, "0" * 64, t, "synthetic", "none", segments)


def build(hours: float, n_quotes: int, wer: float, seed: int):
    """Transcripts, quotes, and where each present quote truly is."""
    rng = np.random.default_rng(seed)
    vocab = vocabulary()
    per_recording = 30 * WORDS_PER_MINUTE  # half-hour recordings
    n_recordings = max(1, int(hours * 60 * WORDS_PER_MINUTE / per_recording))
    truth_speech, transcripts = [], []
    for r in range(n_recordings):
        said = speech(rng, vocab, per_recording)
        truth_speech.append(said)
        transcripts.append(transcript(f"call-{r:04d}.wav", recognise(rng, said, vocab, wer), rng))
    quotes, truth = [], {}
    for q in range(n_quotes):
        length = int(rng.integers(6, 31))
        if q % 5 < 3:
            r = int(rng.integers(n_recordings))
            start = int(rng.integers(0, per_recording - length))
            words = truth_speech[r][start:start + length]
            truth[f"q{q}"] = (transcripts[r].recording, start)
        else:
            words = speech(rng, vocab, length)
        quotes.append(Quote(f"q{q}", "bench", " ".join(words), [" ".join(words)]))
    return transcripts, quotes, truth


def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hours", type=float, default=100)
    ap.add_argument("--quotes", type=int, default=1000)
    ap.add_argument("--wer", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    t0 = time.perf_counter()
    transcripts, quotes, truth = build(args.hours, args.quotes, args.wer, args.seed)
    n_words = sum(len(s.words) for t in transcripts for s in t.segments)
    t1, c1 = time.perf_counter(), time.process_time()
    index = WordIndex(transcripts)
    t2, c2 = time.perf_counter(), time.process_time()
    results = [index.locate(q) for q in quotes]
    t3, c3 = time.perf_counter(), time.process_time()
    found = sum(1 for q, r in zip(quotes, results) if q.quote_id in truth and r[0]
                and r[0][0].recording == truth[q.quote_id][0])
    false = sum(1 for q, r in zip(quotes, results) if q.quote_id not in truth and r[0])
    print(f"synthetic: {len(transcripts)} recordings, {n_words:,} heard words "
          f"({args.hours:g} h at {WORDS_PER_MINUTE} wpm), WER {args.wer:g}; "
          f"generated in {t1 - t0:.1f} s")
    print(f"index build: {t2 - t1:.2f} s wall, {c2 - c1:.2f} s CPU")
    print(f"locate {len(quotes)} quotes: {t3 - t2:.2f} s wall, {c3 - c2:.2f} s CPU "
          f"({1000 * (t3 - t2) / len(quotes):.2f} ms per quote wall)")
    print(f"total (build + locate): {t3 - t1:.2f} s wall, {c3 - c1:.2f} s CPU")
    print(f"present quotes found at the right recording first: {found}/{len(truth)}; "
          f"absent quotes with a candidate: {false}/{len(quotes) - len(truth)}")


if __name__ == "__main__":
    main()
