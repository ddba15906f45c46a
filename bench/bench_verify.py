"""Benchmark: adjudicating quotes on audio, beside the naive diff, on labelled sets.

The labelled set, per data set: every reference line of at least ``--min-words``
words as a true quote, one one-edit misquote of it (a word changed, an interior word
dropped, a word added, or a number changed, in turn), and the pair of the two as two
versions of one line. Each quote is located from the reference times (the span is
padded by ``context_s``), adjudicated on the audio, and diffed naively against the
recogniser's words (verbatim when every normalised word matches, else misquote).

Data sets: the radio re-enactment in ``audio_samples/manifest.csv``; a held-out one in
``bench/data/held-out/`` (other calls by the same voices and radios, written after the
methods were tuned and never used to tune them); the NASA lines of ``apollo11`` (starts
approximate, ±1.5 s); the phone call's STM lines (exact times).

Printed per data set and method: misquotes called verbatim (must be 0), misquote
precision and recall, true quotes confirmed (verbatim or minor), the unverifiable share
of true quotes and of misquotes, pairwise accuracy on two versions of one line, the
median start and end error of the located quote (forced alignment) against the
reference, and milliseconds per quote (windows shared by a quote and its other version
are encoded once, as verify does for two articles quoting one line).

With ``--shift S``, each quote is judged again with its reference span moved S seconds
earlier and later, and the share of verdicts that change is printed: how much of a
verdict is owed to where the window falls.

The printed table is also written to ``bench/results/verify.txt`` (``--out``), with the
command line and date at the top.

    .venv/bin/python bench/bench_verify.py --quick
"""

from __future__ import annotations

import argparse
import csv
import datetime
import logging
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import text as textmod  # noqa: E402
from pipeline.adjudicate import AdjudicateOptions, adjudicate, compare_versions, cut_window  # noqa: E402
from pipeline.audio import load_audio  # noqa: E402

DATA = ROOT / "tests" / "data"
HELD_OUT = ROOT / "bench" / "data" / "held-out"
RESULTS = ROOT / "bench" / "results" / "verify.txt"
TABLE: list[str] = []
"""The printed table, line by line, for the results file."""


def report(line: str = "") -> None:
    """Print one line of the table and keep it for the results file."""
    print(line, flush=True)
    TABLE.append(line)
SWAPS = {"in": "on", "on": "in", "out": "up", "up": "out", "down": "up", "clear": "leave",
         "not": "now", "all": "some", "from": "to", "to": "from", "we're": "they're",
         "black": "blue", "north": "south", "male": "female", "way": "road", "there": "here"}
FILLER_SWAPS = ["house", "truck", "street", "corner", "river", "radio", "doctor", "window"]
NUMBER_SWAPS = {"eight": "nine", "twelve": "fourteen", "four": "five", "two": "three",
                "thirty-three": "forty-three", "twenty-one": "twenty-six", "eleven": "seven",
                "one": "two", "ten": "eleven", "sixty-third": "fifty-third"}
ADDITIONS = ["really", "now", "just", "all", "still", "then"]


@dataclass
class Line:
    """One reference line: the true words and where they were said."""

    recording: Path
    start: float
    end: float
    text: str
    exact: bool


def manifest_lines(folder: Path = ROOT / "audio_samples") -> list[Line]:
    rows = csv.DictReader(open(folder / "manifest.csv"))
    return [Line(folder / r["recording"], float(r["start_s"]), float(r["end_s"]), r["text"], True)
            for r in rows]


def held_out_lines() -> list[Line]:
    """Other calls by the samples' voices and radios, never used to tune the methods
    (``scripts/make_samples.py --set held-out``)."""
    return manifest_lines(HELD_OUT)


def apollo_lines() -> list[Line]:
    rows = list(csv.DictReader(open(DATA / "apollo11.tsv"), delimiter="\t"))
    starts = [float(r["approx_start_s_in_clip"]) for r in rows]
    ends = starts[1:] + [starts[-1] + 6.0]
    return [Line(DATA / "apollo11.mp3", s, e, r["text"].replace(" - -", "").replace(" - ", " "),
                 False) for s, e, r in zip(starts, ends, rows)]


def phone_lines() -> list[Line]:
    lines = []
    for row in open(DATA / "phone-call.stm"):
        parts = row.split(maxsplit=5)
        lines.append(Line(DATA / "phone-call.wav", float(parts[3]), float(parts[4]), parts[5].strip(),
                          True))
    return lines


def one_edit(text: str, kind: str, rng: random.Random) -> tuple[str, str] | None:
    """A one-edit misquote of ``text``: (edited text, the kind), or None if it cannot."""
    words = text.split()
    plain = [re.sub(r"[^\w'-]", "", w).lower() for w in words]
    interior = list(range(1, len(words) - 1))
    if kind == "number":
        spots = [i for i, p in enumerate(plain) if p in NUMBER_SWAPS]
        if not spots:
            return None
        i = rng.choice(spots)
        return _put(words, i, NUMBER_SWAPS[plain[i]]), kind
    if kind == "change":
        spots = [i for i in interior if plain[i] in SWAPS] or [i for i in interior if len(plain[i]) > 3]
        if not spots:
            return None
        i = rng.choice(spots)
        return _put(words, i, SWAPS.get(plain[i], rng.choice(FILLER_SWAPS))), kind
    if kind == "drop":
        spots = [i for i in interior if re.sub(r"\W", "", words[i]) == words[i]]
        if not spots:
            return None
        i = rng.choice(spots)
        return " ".join(words[:i] + words[i + 1:]), kind
    i = rng.choice(interior) if interior else 1
    return " ".join(words[:i] + [rng.choice(ADDITIONS)] + words[i:]), "add"


def _put(words: list[str], i: int, new: str) -> str:
    core = re.sub(r"[^\w'-]", "", words[i])
    replaced = words[i].replace(core, new[:1].upper() + new[1:] if core[:1].isupper() else new, 1)
    return " ".join(words[:i] + [replaced] + words[i + 1:])


def degrade(samples: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """Radio-like: 8 kHz, 300-3000 Hz band, noise at ``snr_db``."""
    from scipy.signal import butter, resample_poly, sosfilt

    narrow = resample_poly(samples, 1, 2)
    narrow = sosfilt(butter(4, [300, 3000], btype="band", fs=8000, output="sos"), narrow)
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(len(narrow))
    noise *= np.sqrt(np.mean(narrow ** 2) / 10 ** (snr_db / 10)) / np.std(noise)
    return resample_poly(narrow + noise, 2, 1).astype(np.float32)


def naive(quote: str, heard_words) -> str:
    """The naive rule: verbatim when every normalised word was heard, in order."""
    q = [t.text for t in textmod.normalize(quote) if not textmod.is_filler(t)]
    h = [t.text for t in textmod.tokens_from_words(heard_words) if not textmod.is_filler(t)]
    text = " " + " ".join(h) + " "
    return "verbatim" if " " + " ".join(q) + " " in text else "misquote"


def labelled(lines: list[Line], args) -> list[tuple[Line, list[tuple[str, str]]]]:
    """Each line of at least ``--min-words`` words with its quotes: (text, "true") and one
    one-edit misquote (text, kind), the kinds in turn."""
    rng = random.Random(7)
    kinds = ["change", "drop", "number", "add"]
    lines = [ln for ln in lines if len(ln.text.split()) >= args.min_words]
    if args.quick:
        lines = lines[:args.quick]
    out = []
    for n, line in enumerate(lines):
        edit = None
        for k in range(len(kinds)):
            edit = one_edit(line.text, kinds[(n + k) % len(kinds)], rng)
            if edit:
                break
        out.append((line, [(line.text, "true")] + ([edit] if edit else [])))
    return out


def load_set(lines: list[Line], degrade_snr) -> dict[Path, np.ndarray]:
    """Each recording of a set, decoded (and degraded, when ``degrade_snr`` is given)."""
    audio = {}
    for line in lines:
        if line.recording not in audio:
            samples = load_audio(line.recording)
            if degrade_snr is not None:
                samples = degrade(samples, degrade_snr, seed=len(audio))
            audio[line.recording] = samples
    return audio


def heard_words(audio, engine) -> dict:
    """Each recording's words as the recogniser hears the whole of it (beam 5), decoded once
    for the runs at the reference lines."""
    from pipeline.engines import DecodeOptions

    return {rec: [w for s in engine.transcribe(samples, DecodeOptions(beam_size=5)) for w in s.words]
            for rec, samples in audio.items()}


def run_set(name: str, items, audio, heard, scorers, options):
    """Each quote judged where its reference line is (the span padded), beside the naive diff."""
    results = {"adjudicate": [], "naive": []}
    pairs, starts, ends, seconds = [], [], [], []
    for line, quotes in items:
        samples = audio[line.recording]
        window, ws = cut_window(samples, line.start, line.end, options)
        we = ws + len(window) / 16000
        hw = [w for w in heard[line.recording] if w.end > ws and w.start < we]
        for quote, truth in quotes:
            t0 = time.perf_counter()
            span = (line.start, line.end) if line.exact else None
            j = adjudicate(quote, hw, window, ws, scorers, options, span=span)
            seconds.append(time.perf_counter() - t0)
            results["adjudicate"].append((truth, j.verdict))
            results["naive"].append((truth, naive(quote, hw)))
            logging.info("%s %-8s %-12s %s | %s", name, truth, j.verdict, quote, "; ".join(j.differences))
            if truth == "true":
                spoken = [w for w in j.words if w.word]
                starts.append(abs(spoken[0].start - line.start))
                ends.append(abs(spoken[-1].end - line.end))
        if len(quotes) > 1:
            scores = compare_versions([line.text, quotes[1][0]], window, scorers[0])
            pairs.append(scores[0] > scores[1])
    report()
    report(f"== {name}: {len(items)} lines, {sum(len(q) - 1 for _, q in items)} misquotes, "
           "each judged where its line is")
    report(f"{'method':<11} {'mis->verb':>9} {'mis prec':>8} {'mis rec':>7} {'true conf':>9} "
           f"{'unv true':>8} {'unv mis':>7}")
    for method, rows in results.items():
        report(f"{method:<11} " + _figures(rows))
    report(f"pairwise accuracy (mean log-prob, {scorers[0].name}): {np.mean(pairs):.2f} of {len(pairs)}")
    label = "exact" if items and items[0][0].exact else "reference approx ±1.5 s"
    report(f"located start error median {np.median(starts):.2f} s, end {np.median(ends):.2f} s ({label})")
    report(f"adjudicate: {1000 * np.mean(seconds):.0f} ms per quote, "
           f"median {1000 * np.median(seconds):.0f} ms (encoding included, shared CPU)")


def run_shifts(name: str, items, audio, heard, scorers, options, shift: float):
    """How much a verdict owes to where the window falls: each quote judged again with its
    reference span moved ``shift`` seconds earlier and later (as a recogniser's times may
    be), beside the verdict at the reference span."""
    rows = []
    for line, quotes in items:
        for quote, truth in quotes:
            verdicts = []
            for d in (0.0, -shift, shift):
                start, end = line.start + d, line.end + d
                window, ws = cut_window(audio[line.recording], start, end, options)
                hw = [w for w in heard[line.recording] if w.end > ws and w.start < ws + len(window) / 16000]
                span = (start, end) if line.exact else None
                verdicts.append(adjudicate(quote, hw, window, ws, scorers, options, span=span).verdict)
            logging.info("%s shift %-8s %s %s", name, truth, " ".join(f"{v:12s}" for v in verdicts), quote)
            rows.append((truth, verdicts))
    same = np.mean([len(set(v)) == 1 for _, v in rows])
    true = [v for t, v in rows if t == "true"]
    mis = [v for t, v in rows if t != "true"]
    report(f"window moved ±{shift:g} s: verdict unchanged {same:.2f}; true confirmed at the reference "
           f"{np.mean([v[0] in ('verbatim', 'minor') for v in true]):.2f}, at every shift "
           f"{np.mean([all(x in ('verbatim', 'minor') for x in v) for v in true]):.2f}, at some "
           f"{np.mean([any(x in ('verbatim', 'minor') for x in v) for v in true]):.2f}, "
           f"called misquote at some {sum('misquote' in v for v in true)}; misquotes called verbatim "
           f"at some shift {sum('verbatim' in v for v in mis)}, caught at the reference "
           f"{np.mean([v[0] == 'misquote' for v in mis]):.2f}, at some "
           f"{np.mean(['misquote' in v for v in mis]):.2f}")


def run_search(name: str, items, audio, scorers, engine, options):
    """End to end, as ``dispatch verify`` runs: every quote searched for in the packed
    transcripts of all the set's recordings, then judged (``verify_quotes``), once taking
    the transcript's best match as the place, once letting the audio pick among the
    nearly matching places (the default)."""
    from pipeline.records import Quote
    from pipeline.transcribe import TranscribeOptions, transcribe_file
    from pipeline.verify import VerifyOptions, verify_quotes

    transcripts = [transcribe_file(str(rec), samples, "", engine, TranscribeOptions())
                   for rec, samples in audio.items()]
    flat = [(line, text, truth) for line, quotes in items for text, truth in quotes]
    quotes = [Quote(f"q{i}", truth, text, [text]) for i, (_, text, truth) in enumerate(flat)]
    lines = [line for line, _ in items]
    report(f"-- located by search in {len(transcripts)} recording(s), as dispatch verify does")
    report(f"{'place':<11} {'mis->verb':>9} {'mis prec':>8} {'mis rec':>7} {'true conf':>9} "
           f"{'unv true':>8} {'unv mis':>7} {'right place':>11} {'s/quote':>7}")
    for label, alternatives in [("best match", 0), ("audio picks", VerifyOptions().alternatives)]:
        verify = VerifyOptions(adjudicate=options, alternatives=alternatives)
        t0 = time.perf_counter()
        checks = verify_quotes(quotes, transcripts, lambda rec: audio[Path(rec)], scorers, verify)
        per_quote = (time.perf_counter() - t0) / len(quotes)
        rows = [(truth, c.verdict) for (_, _, truth), c in zip(flat, checks)]
        right = [_right_place(c, line, lines) for (line, _, truth), c in zip(flat, checks) if truth == "true"]
        for (_, text, truth), c in zip(flat, checks):
            logging.info("%s search/%s %-8s %-12s %s | %s", name, label, truth, c.verdict, text,
                         "; ".join(c.differences + c.reasons))
        report(f"{label:<11} " + _figures(rows) + f" {np.mean(right):>11.2f} {per_quote:>7.2f}")
        order = _review_order([(truth, c) for (_, _, truth), c in zip(flat, checks)])
    report(f"review order (default): of unverifiable pairs (a misquote, a true quote), the misquote "
           f"ranks first in {order}")


def _review_order(rows) -> str:
    """How well ``review_rank`` puts misquotes before true quotes among the unverifiable:
    the share of (misquote, true quote) pairs where the misquote comes first (0.5: chance)."""
    mis = [c.review_rank for truth, c in rows if truth != "true" and c.review_rank]
    true = [c.review_rank for truth, c in rows if truth == "true" and c.review_rank]
    if not mis or not true:
        return "- (no pairs)"
    wins = sum(m < t for m in mis for t in true)
    return f"{wins / (len(mis) * len(true)):.2f} of {len(mis) * len(true)} pairs"


def _right_place(check, line: Line, lines: list[Line]) -> bool:
    """Whether a true quote was placed on its line, or on another line of the same words."""
    same = [x for x in lines if _plain(x.text) == _plain(line.text)]
    slack = 0.5 if line.exact else 1.5
    return any(check.recording == str(x.recording) and check.start_s < x.end + slack
               and check.end_s > x.start - slack for x in same)


def _plain(text: str) -> str:
    return " ".join(t.text for t in textmod.normalize(text))


def _figures(rows) -> str:
    true = [v for t, v in rows if t == "true"]
    mis = [v for t, v in rows if t != "true"]
    called = [t for t, v in rows if v == "misquote"]
    prec = (sum(1 for t in called if t != "true") / len(called)) if called else float("nan")
    return (f"{sum(v == 'verbatim' for v in mis):>9d} {prec:>8.2f} "
            f"{np.mean([v == 'misquote' for v in mis]):>7.2f} "
            f"{np.mean([v in ('verbatim', 'minor') for v in true]):>9.2f} "
            f"{np.mean([v == 'unverifiable' for v in true]):>8.2f} "
            f"{np.mean([v == 'unverifiable' for v in mis]):>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", type=int, nargs="?", const=6, default=0,
                        help="at most this many lines per data set (default 6 when given)")
    parser.add_argument("--sets", default="radio,held-out,apollo11,phone,phone-radio",
                        help="comma-separated: radio, held-out, apollo11, phone, apollo11-radio, "
                             "phone-radio")
    parser.add_argument("--judge", default="base")
    parser.add_argument("--witness", default="tiny.en", help="second scorer; '' for none")
    parser.add_argument("--beam", type=int, default=5, help="judge's beam hypotheses as evidence (0 off)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the table is written")
    parser.add_argument("--min-words", type=int, default=4)
    parser.add_argument("--min-context", type=float, default=None,
                        help="shortest audio the scorers' encoders run on, seconds (default: the "
                             "pipeline's; 30: every window padded to 30 s, as Whisper does)")
    parser.add_argument("--no-search", action="store_true",
                        help="skip the end-to-end runs (quotes located by search, not by reference)")
    parser.add_argument("--shift", type=float, default=0.0,
                        help="also judge each quote with its span moved this many seconds earlier "
                             "and later, and report how many verdicts change (0: off)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(message)s")
    from pipeline.engines import load_engine
    from pipeline.scoring import Scorer

    scorers = [Scorer.load(args.judge, threads=args.threads)] + (
        [Scorer.load(args.witness)] if args.witness else [])
    for scorer in scorers:
        scorer.min_context_s = args.min_context or scorer.min_context_s
    engine = load_engine("tiny.en")
    options = AdjudicateOptions(beam_size=args.beam)
    sets = {
        "radio": (manifest_lines, None),
        "held-out": (held_out_lines, None),
        "apollo11": (apollo_lines, None),
        "phone": (phone_lines, None),
        "apollo11-radio": (apollo_lines, 12.0),
        "phone-radio": (phone_lines, 12.0),
    }
    report(f"$ {' '.join(['.venv/bin/python', 'bench/bench_verify.py'] + sys.argv[1:])}")
    report(f"# {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    report(f"judge {args.judge}, witness {args.witness or 'none'}, beam {args.beam}, "
           f"quick {args.quick or 'off'}, encoder context at least {scorers[0].min_context_s:g} s")
    for name in args.sets.split(","):
        make, snr = sets[name]
        items = labelled(make(), args)
        audio = load_set([line for line, _ in items], snr)
        heard = heard_words(audio, engine)
        run_set(name, items, audio, heard, scorers, options)
        if args.shift:
            run_shifts(name, items, audio, heard, scorers, options, args.shift)
        if not args.no_search:
            run_search(name, items, audio, scorers, engine, options)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(TABLE) + "\n")


if __name__ == "__main__":
    main()
