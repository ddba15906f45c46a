"""Benchmark: adjudicating quotes on audio, beside the naive diff, on labelled sets.

The labelled set, per data set: every reference line of at least ``--min-words``
words as a true quote, one one-edit misquote of it (an inner word changed, dropped or
added, a number changed, or the first or last word changed, dropped or added, in turn),
on every other line a true quote in another published form (a number in digits or digit
by digit, an abbreviation, a reporter's typo: a form, never a misquote), and the pair of
the line and its misquote as two versions of one line. Absent lines (other calls' lines of
the same kind, searched where they were not said) test ``not_found``. Each quote is
located from the reference times (the span is padded by ``context_s``), adjudicated on the
audio, and diffed naively against the recogniser's words (verbatim when every normalised
word matches, else misquote).

Data sets: the radio re-enactment in ``audio_samples/manifest.csv``; a held-out one in
``bench/data/held-out/`` (other calls by the same voices and radios, written after the
methods were tuned and never used to tune them); harder copies of both
(``bench/data/hard-dev``, ``bench/data/hard-held-out``: key-up clipping, AGC, dropouts,
faster speech, codec2 at 700-1600 bit/s; the second held out); real Apollo 11 air-to-ground
radio (``bench/data/a2g``: the first file for development, the second held out; NASA's
text, times ±0.5-1.5 s); the NASA lines of ``apollo11`` (starts approximate, ±1.5 s); the
phone call's STM lines (exact times).

Printed per data set and method: misquotes called verbatim (must be 0), misquote
precision and recall, true quotes confirmed (verbatim or minor), the unverifiable share
of true quotes and of misquotes, misquotes called verbatim or minor, the share of true
quotes called misquote, of spoken quotes called ``not_found`` and of absent ones called
``not_found`` (end to end), the recall of edge-word and of inner-word edits, a reliability
table per verdict (of the verdicts at confidence at least c, the share right), pairwise
accuracy on two versions of one line, the
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
A2G = ROOT / "bench" / "data" / "a2g"
A2G_FILES = {"a2g-dev": "A11_HR1U_CH10_00001058000.wav", "a2g-held-out": "A11_HR1U_CH10_00002316000.wav"}
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
EDGE_ADDITIONS = {"start": ["Then", "Now", "Still"], "end": ["now", "again", "there"]}
FORMS = {"street": "St.", "avenue": "Ave.", "boulevard": "Blvd.", "north": "N.", "south": "S.",
         "okay": "OK", "sergeant": "Sgt.", "officer": "Ofc.", "building": "bldg.", "apartment": "apt.",
         "road": "Rd.", "mister": "Mr.", "number": "No.", "plus": "+"}
"""Abbreviations a reporter may print for a word heard in full."""
NUMBER_FORMS = {"eight twelve": "812", "eight thirty-three": "833", "eight thirty-one": "831",
                "ten four": "10-4", "eleven": "11", "twelve": "12", "twenty-one": "21",
                "thirty-three": "33", "four": "4", "two": "2", "eight": "8", "ten": "10"}
"""Number words a reporter may print as digits."""
KINDS = ["change", "edge-change", "drop", "edge-drop", "number", "add", "edge-add"]
"""The one-edit misquotes, in turn; ``edge-`` kinds edit the first or last word."""


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


def hard_lines(name: str) -> list[Line]:
    """The harder copy of a set (``scripts/make_samples.py --set hard-dev``/``hard-held-out``)."""
    return manifest_lines(ROOT / "bench" / "data" / name)


def a2g_lines(name: str) -> list[Line]:
    """NASA's lines of one real air-to-ground file (times ±0.5-1.5 s)."""
    rows = csv.DictReader(open(A2G / "transcript.tsv", encoding="utf-8"), delimiter="\t")
    return [Line(A2G / r["file"], float(r["start_s"]), float(r["end_s"]),
                 r["text"].replace("... ", "").strip(), False)
            for r in rows if r["file"] == A2G_FILES[name] and not r["text"].startswith("[")]


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
    if kind.startswith("edge-"):
        return _edge_edit(words, plain, kind, rng)
    i = rng.choice(interior) if interior else 1
    return " ".join(words[:i] + [rng.choice(ADDITIONS)] + words[i:]), "add"


def _edge_edit(words: list[str], plain: list[str], kind: str, rng: random.Random):
    """The first or last word changed, dropped or added to."""
    side = rng.choice(["start", "end"])
    i = 0 if side == "start" else len(words) - 1
    if kind == "edge-drop":
        if len(words) < 5:
            return None
        return " ".join(words[1:] if i == 0 else words[:-1]), kind
    if kind == "edge-add":
        extra = rng.choice(EDGE_ADDITIONS[side])
        if side == "start":
            return " ".join([extra + ","] + [words[0][:1].lower() + words[0][1:]] + words[1:]), kind
        return " ".join(words[:-1] + [words[-1].rstrip(".?!,") + " " + extra + "."]), kind
    new = NUMBER_SWAPS.get(plain[i]) or SWAPS.get(plain[i])
    if not new:
        if len(plain[i]) <= 3:
            return None
        new = rng.choice(FILLER_SWAPS)
    return _put(words, i, new), kind


def form_variant(text: str, rng: random.Random) -> str | None:
    """The line as a reporter may print it without changing a word: numbers in digits, an
    abbreviation, or a typo (two letters swapped in a longer inner word)."""
    low = text.lower()
    for spoken, digits in NUMBER_FORMS.items():
        m = re.search(rf"\b{spoken}\b", low)
        if m:
            return text[:m.start()] + digits + text[m.end():]
    words = text.split()
    for i, w in enumerate(words):
        core = re.sub(r"[^\w'-]", "", w).lower()
        if core in FORMS:
            short = FORMS[core].rstrip(".") if w.endswith(".") else FORMS[core]
            return " ".join(words[:i] + [w.lower().replace(core, short)] + words[i + 1:])
    spots = [i for i in range(1, len(words) - 1) if re.fullmatch(r"[a-z]{6,}", words[i])]
    if not spots:
        return None
    i = rng.choice(spots)
    w = words[i]
    k = rng.randrange(1, len(w) - 2)
    return " ".join(words[:i] + [w[:k] + w[k + 1] + w[k] + w[k + 2:]] + words[i + 1:])


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
    kinds = KINDS
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
        form = form_variant(line.text, rng) if n % 2 == 0 else None
        out.append((line, [(line.text, "true")] + ([edit] if edit else [])
                    + ([(form, "form")] if form and form != line.text else [])))
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
            results["adjudicate"].append((truth, j.verdict, j.confidence))
            results["naive"].append((truth, naive(quote, hw), 1.0))
            logging.info("%s %-8s %-12s %s | %s", name, truth, j.verdict, quote, "; ".join(j.differences))
            if truth == "true":
                spoken = [w for w in j.words if w.word]
                starts.append(abs(spoken[0].start - line.start))
                ends.append(abs(spoken[-1].end - line.end))
        edits = [q for q, truth in quotes if _is_edit(truth)]
        if edits:
            scores = compare_versions([line.text, edits[0]], window, scorers[0])
            pairs.append(scores[0] > scores[1])
    report()
    report(f"== {name}: {len(items)} lines, {sum(_is_edit(t) for _, q in items for _, t in q)} "
           f"misquotes, {sum(t == 'form' for _, q in items for _, t in q)} true in another form, "
           "each judged where its line is")
    report(HEADER.format("method"))
    for method, rows in results.items():
        report(f"{method:<11} " + _figures(rows, np.mean(seconds)))
    report(_reliability(results["adjudicate"]))
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


def run_search(name: str, items, audio, scorers, engine, options, absent=(), best_match=False):
    """End to end, as ``dispatch verify`` runs: every quote searched for in the packed
    transcripts of all the set's recordings, then judged (``verify_quotes``), once taking
    the transcript's best match as the place, once letting the audio pick among the
    nearly matching places (the default)."""
    from pipeline.records import Quote
    from pipeline.transcribe import TranscribeOptions, transcribe_file
    from pipeline.verify import VerifyOptions

    transcripts = [transcribe_file(str(rec), samples, "", engine, TranscribeOptions())
                   for rec, samples in audio.items()]
    flat = [(line, text, truth) for line, quotes in items for text, truth in quotes]
    flat += [(line, line.text, "absent") for line in absent]
    quotes = [Quote(f"q{i}", truth, text, [text]) for i, (_, text, truth) in enumerate(flat)]
    lines = [line for line, _ in items]
    report(f"-- {name}: located by search in {len(transcripts)} recording(s), as dispatch verify does; "
           f"{len(absent)} absent lines (other calls' lines, said elsewhere)")
    report(HEADER.format("place") + f" {'right place':>11}")
    places = [("best match", 0)] if best_match else []
    for label, alternatives in places + [("audio picks", VerifyOptions().alternatives)]:
        verify = VerifyOptions(adjudicate=options, alternatives=alternatives)
        t0 = time.perf_counter()
        checks = _verify_apart(quotes, flat, transcripts, audio, scorers, verify)
        per_quote = (time.perf_counter() - t0) / len(quotes)
        rows = [(truth, c.verdict, c.confidence) for (_, _, truth), c in zip(flat, checks)]
        if label == "audio picks":
            ROWS.extend({"set": name, "truth": truth, "verdict": str(c.verdict), "strength": c.strength,
                         "confidence": c.confidence, "differences": len(c.differences),
                         "changed": sum(w.status in ("changed", "added") for w in c.words),
                         "missing": sum(w.status == "missing" for w in c.words),
                         "quote": text, "said": "; ".join(c.differences + c.reasons)}
                        for (_, text, truth), c in zip(flat, checks))
        right = [_right_place(c, line, lines) for (line, _, truth), c in zip(flat, checks) if truth == "true"]
        for (_, text, truth), c in zip(flat, checks):
            logging.info("%s search/%s %-8s %-12s %.2f %s | %s", name, label, truth, c.verdict,
                         c.strength, text, "; ".join(c.differences + c.reasons))
        report(f"{label:<11} " + _figures(rows, per_quote) + f" {np.mean(right):>11.2f}")
        report(_reliability(rows))
        order = _review_order([(truth, c) for (_, _, truth), c in zip(flat, checks)])
    report(f"review order (default): of unverifiable pairs (a misquote, a true quote), the misquote "
           f"ranks first in {order}")


ROWS: list[dict] = []
"""Every end-to-end verdict of the run (``--rows``)."""


def _verify_apart(quotes, flat, transcripts, audio, scorers, verify):
    """``verify_quotes`` on the quotes, each absent line searched in every recording but
    the one it was said in; checks in the quotes' order."""
    from pipeline.verify import verify_quotes

    def samples(rec):
        return audio[Path(rec)]

    spoken = [i for i, (_, _, truth) in enumerate(flat) if truth != "absent"]
    checks = dict(zip(spoken, verify_quotes([quotes[i] for i in spoken], transcripts, samples,
                                            scorers, verify)))
    absent = [i for i, (_, _, truth) in enumerate(flat) if truth == "absent"]
    for rec in dict.fromkeys(flat[i][0].recording for i in absent):
        group = [i for i in absent if flat[i][0].recording == rec]
        others = [t for t in transcripts if t.recording != str(rec)]
        checks.update(zip(group, verify_quotes([quotes[i] for i in group], others, samples,
                                               scorers, verify)))
    return [checks[i] for i in range(len(flat))]


def _other_recordings(lines: list[Line], audio) -> list[Line]:
    """A set's lines said in recordings other than those judged (with ``--quick``), else
    all its lines: each is searched everywhere but where it was said."""
    other = [x for x in lines if x.recording not in audio]
    return other or (lines if len(audio) > 1 else [])


def absent_lines(items, pool: list[Line], n: int) -> list[Line]:
    """At most ``n`` lines of ``pool`` (other calls' lines of the same kind) whose words no
    line of the set's own recordings holds, drawn with a fixed seed."""
    def said_where_searched(x: Line) -> bool:
        text = f" {_plain(x.text)} "
        return any(text in f" {_plain(line.text)} " or f" {_plain(line.text)} " in text
                   for line, _ in items if line.recording != x.recording)

    fresh = [x for x in pool if len(x.text.split()) >= 4 and not said_where_searched(x)]
    fresh = list({_plain(x.text): x for x in fresh}.values())
    return random.Random(11).sample(fresh, min(n, len(fresh)))


def _review_order(rows) -> str:
    """How well ``review_rank`` puts misquotes before true quotes among the unverifiable:
    the share of (misquote, true quote) pairs where the misquote comes first (0.5: chance)."""
    mis = [c.review_rank for truth, c in rows if _is_edit(truth) and c.review_rank]
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


HEADER = ("{:<11} mis->verb mis prec mis rec true conf unv true unv mis mis->v/m true->mis "
          "spoken->nf absent->nf edge rec inner rec s/quote")
"""The columns :func:`_figures` prints."""


def _is_edit(truth: str) -> bool:
    """Whether a label is a misquote's (an edit kind), not a true, form or absent line."""
    return truth not in ("true", "form", "absent")


def _share(flags) -> float:
    flags = list(flags)
    return float(np.mean(flags)) if flags else float("nan")


def _figures(rows, per_quote: float) -> str:
    """One row of figures from (truth, verdict, confidence) triples."""
    true = [v for t, v, _ in rows if t in ("true", "form")]
    mis = [v for t, v, _ in rows if _is_edit(t)]
    absent = [v for t, v, _ in rows if t == "absent"]
    called = [t for t, v, _ in rows if v == "misquote"]
    prec = _share(_is_edit(t) for t in called)
    edge = [v == "misquote" for t, v, _ in rows if _is_edit(t) and t.startswith("edge-")]
    inner = [v == "misquote" for t, v, _ in rows if _is_edit(t) and not t.startswith("edge-")]
    return (f"{sum(v == 'verbatim' for v in mis):>9d} {prec:>8.2f} "
            f"{_share(v == 'misquote' for v in mis):>7.2f} "
            f"{_share(v in ('verbatim', 'minor') for v in true):>9.2f} "
            f"{_share(v == 'unverifiable' for v in true):>8.2f} "
            f"{_share(v == 'unverifiable' for v in mis):>7.2f} "
            f"{sum(v in ('verbatim', 'minor') for v in mis):>8d} "
            f"{_share(v == 'misquote' for v in true):>9.2f} "
            f"{_share(v == 'not_found' for v in true + mis):>10.2f} "
            f"{_share(v == 'not_found' for v in absent):>10.2f} "
            f"{_share(edge):>8.2f} {_share(inner):>9.2f} {per_quote:>7.2f}")


RIGHT = {"misquote": lambda t: _is_edit(t), "not_found": lambda t: t == "absent",
         "verbatim/minor": lambda t: t in ("true", "form")}
"""What makes each verdict right, by the quote's label."""


def _reliability(rows, levels=(0.5, 0.7, 0.9, 0.95)) -> str:
    """Per verdict, of the verdicts at confidence at least c, the share right (n)."""
    parts = []
    for verdict, right in RIGHT.items():
        picked = [(t, c) for t, v, c in rows if v in verdict.split("/")]
        cells = []
        for level in levels:
            at = [right(t) for t, c in picked if (c or 0.0) >= level]
            cells.append(f">={level:g} {_share(at):.2f} ({len(at)})" if at else f">={level:g} - (0)")
        parts.append(f"{verdict}: " + ", ".join(cells))
    return "reliability, share right at confidence >= c (n): " + "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", type=int, nargs="?", const=6, default=0,
                        help="at most this many lines per data set (default 6 when given)")
    parser.add_argument("--sets", default="a2g-dev,a2g-held-out,hard-dev,hard-held-out,radio,"
                        "held-out,phone,apollo11",
                        help="comma-separated: a2g-dev, a2g-held-out, hard-dev, hard-held-out, radio, "
                             "held-out, apollo11, phone, apollo11-radio, phone-radio")
    parser.add_argument("--absent", type=int, default=12,
                        help="absent lines per set, searched end to end (0: none)")
    parser.add_argument("--best-match", action="store_true",
                        help="also run end to end taking the transcript's best match as the place")
    parser.add_argument("--judge", default="base")
    parser.add_argument("--witness", default="tiny.en", help="second scorer; '' for none")
    parser.add_argument("--beam", type=int, default=5, help="judge's beam hypotheses as evidence (0 off)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the table is written")
    parser.add_argument("--min-words", type=int, default=4)
    parser.add_argument("--min-context", type=float, default=None,
                        help="shortest audio the scorers' encoders run on, seconds (default: the "
                             "pipeline's; 30: every window padded to 30 s, as Whisper does)")
    parser.add_argument("--search-only", action="store_true",
                        help="skip judging at the reference lines (only the end-to-end runs)")
    parser.add_argument("--absent-only", action="store_true",
                        help="end to end, search only the absent lines (with --search-only)")
    parser.add_argument("--no-search", action="store_true",
                        help="skip the end-to-end runs (quotes located by search, not by reference)")
    parser.add_argument("--shift", type=float, default=0.0,
                        help="also judge each quote with its span moved this many seconds earlier "
                             "and later, and report how many verdicts change (0: off)")
    parser.add_argument("--rows", type=Path, default=None,
                        help="also write every end-to-end verdict (set, truth, verdict, strength, "
                             "confidence) to this CSV, for bench/calibrate.py")
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
        "a2g-dev": (lambda: a2g_lines("a2g-dev"), None),
        "a2g-held-out": (lambda: a2g_lines("a2g-held-out"), None),
        "hard-dev": (lambda: hard_lines("hard-dev"), None),
        "hard-held-out": (lambda: hard_lines("hard-held-out"), None),
        "radio": (manifest_lines, None),
        "held-out": (held_out_lines, None),
        "apollo11": (apollo_lines, None),
        "phone": (phone_lines, None),
        "apollo11-radio": (apollo_lines, 12.0),
        "phone-radio": (phone_lines, 12.0),
    }
    pools = {"a2g-dev": apollo_lines, "a2g-held-out": apollo_lines,
             "apollo11": lambda: a2g_lines("a2g-dev"), "apollo11-radio": lambda: a2g_lines("a2g-dev")}
    """Absent lines per set: another recording's lines of the same kind; sets of several
    recordings use their own lines, each searched where it was not said."""
    report(f"$ {' '.join(['.venv/bin/python', 'bench/bench_verify.py'] + sys.argv[1:])}")
    report(f"# {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    report(f"judge {args.judge}, witness {args.witness or 'none'}, beam {args.beam}, "
           f"quick {args.quick or 'off'}, encoder context at least {scorers[0].min_context_s:g} s")
    for name in args.sets.split(","):
        make, snr = sets[name]
        items = labelled(make(), args)
        audio = load_set([line for line, _ in items], snr)
        if not args.search_only:
            heard = heard_words(audio, engine)
            run_set(name, items, audio, heard, scorers, options)
        if args.shift:
            run_shifts(name, items, audio, heard_words(audio, engine), scorers, options, args.shift)
        if not args.no_search:
            pool = pools[name]() if name in pools else _other_recordings(make(), audio)
            absent = absent_lines(items, pool, args.absent) if args.absent else []
            spoken = [] if args.absent_only else items
            run_search(name, spoken, audio, scorers, engine, options, absent, args.best_match)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(TABLE) + "\n")
    if args.rows:
        import pandas as pd

        pd.DataFrame(ROWS).to_csv(args.rows, index=False)


if __name__ == "__main__":
    main()
