"""What ``dispatch verify`` costs per quote on a folder of short radio calls, and how much
of it goes to searching the audio for weak matches.

A trunk-recorder folder of short calls is generated with ``bench_calls.build_calls``
(lines cut from the project's recordings at their reference times, and espeak-ng
dispatch phrases where espeak-ng is installed; three talkgroups, a ``.json`` beside
each call). ``--calls`` of them are searched; the lines of ``--held-back`` more, never
transcribed, are the pool of absent quotes. The searched calls are transcribed as
``dispatch verify`` transcribes a folder (``batch.run_batch`` with the tiny.en engine
loaded before timing, then each transcript given its call, ``speakers.radio.attach_calls``,
so a quote is searched along its talkgroup's stream of calls); voice clustering is left
out. Transcription is timed apart and is not part of the cost per quote.

``--quotes`` quotes are built with a fixed seed from the searched calls' lines of four
words or more (``bench_verify``'s rules): about 45 % true lines (every third in another
published form, ``form_variant``), 40 % one-edit misquotes (``one_edit``, the kinds in
turn, edits of the first or last word included; the first lines they take are lines no
true quote takes, then lines a true quote takes too, so both versions of a line meet),
15 % absent lines (``absent_lines``: held-back lines no searched line holds; the calls
draw their lines from one small set, with repeats, so where the held-back calls hold too
few such lines, the rest are lines of that set that no call holds). They are shuffled
and checked in one ``verify.verify_quotes`` run with the default ``VerifyOptions``, the
judge (base) and the witness (tiny.en) loaded before timing.

Measured: the run's seconds and seconds per quote (target: 2 s or less), and where they
go, timed by wrapping ``verify``'s module functions for the run: ``adjudicate`` (every
judgement of a quote on its audio; apart, those at the located place and the other
places a contradicted quote is judged at), ``compare_line_versions`` (versions of one
line scored against each other), ``_second_chance`` (the search in the audio for a
quote the transcripts barely match: its judgements at weak matches and its fit against
other transmissions' audio; the quotes that went through it are counted), and the rest
(indexing, locating, cutting audio, calibrating). One row of ``bench_verify``'s verdict
figures, with its reliability line, shows the accuracy of the same run.

The output goes to stdout and to ``bench/results/verify_calls.txt`` (``--out``), with
the command, date, core count and load average at the top and the load at the end.

Example:
    .venv/bin/python bench/bench_verify_calls.py
    .venv/bin/python bench/bench_verify_calls.py --calls 6 --quotes 10 --held-back 2   # smoke
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_calls  # noqa: E402
from bench_calls import SR, TALKGROUPS, Call, build_calls  # noqa: E402
from bench_throughput import Printout  # noqa: E402
from bench_verify import (  # noqa: E402
    HEADER,
    KINDS,
    Line,
    _figures,
    _plain,
    _reliability,
    absent_lines,
    form_variant,
    one_edit,
)

RESULTS = ROOT / "bench" / "results" / "verify_calls.txt"
SEED = 0
"""Seed of the generated folder, the held-back calls and the quotes."""
TARGET_S = 2.0
"""Verify seconds per quote, at most."""
MIN_WORDS = 4
"""Shortest line quoted (``bench_verify``'s ``--min-words``)."""


# --------------------------------------------------------------------------- the folder


def build_folder(n: int, root: Path) -> tuple[list[Call], dict[str, list[Line]], list[Line]]:
    """``n`` calls written under ``root`` by ``build_calls``, and each call's lines.

    ``build_calls`` keeps only a call's whole text; its lines are found again among the
    lines it drew from (caught on their way in), the call's units giving their count and
    places.

    Returns:
        (the calls, call path -> its lines as ``bench_verify.Line``, the lines it could
        draw from that no call holds).
    """
    drawn: list = []
    real, spoken = bench_calls.real_lines, bench_calls.espeak_lines

    def catch(make):
        def caught(*args, **kwargs):
            lines = make(*args, **kwargs)
            drawn.extend(lines)
            return lines
        return caught

    bench_calls.real_lines, bench_calls.espeak_lines = catch(real), catch(spoken)
    try:
        calls = build_calls(n, root, seed=SEED)
    finally:
        bench_calls.real_lines, bench_calls.espeak_lines = real, spoken
    length = {}
    for line in drawn:
        length.setdefault(line.text, len(line.samples) / SR)
    lines = {}
    for call in calls:
        texts = _split(call.text, len(call.units), sorted(length, key=len, reverse=True))
        if texts is None:
            raise RuntimeError(f"cannot split {call.path.name} into its lines: {call.text!r}")
        lines[str(call.path)] = [Line(call.path, pos, pos + length[t], t, True)
                                 for (pos, _), t in zip(call.units, texts)]
    said = {x.text for found in lines.values() for x in found}
    unused = [Line(root / "no-call", 0.0, length[t], t, True) for t in length if t not in said]
    return calls, lines, unused


def _split(text: str, count: int, known: list[str]) -> list[str] | None:
    """``text`` as ``count`` known lines joined by spaces, or None."""
    if count == 1:
        return [text] if text in known else None
    for first in known:
        if text.startswith(first + " "):
            rest = _split(text[len(first) + 1:], count - 1, known)
            if rest is not None:
                return [first] + rest
    return None


def held_back(calls: list[Call], n: int) -> set[str]:
    """The paths of ``n`` calls drawn with the fixed seed, never transcribed."""
    return {str(c.path) for c in random.Random(SEED).sample(calls, min(n, len(calls)))}


# --------------------------------------------------------------------------- quotes


def build_quotes(searched: list[Line], pool: list[Line], spare: list[Line], n: int):
    """``n`` quotes: about 45 % true (every third in another form), 40 % one-edit
    misquotes, 15 % absent lines; shuffled with the fixed seed.

    Absent lines are drawn from ``pool`` (the held-back calls' lines); where it holds too
    few that no searched line holds (the calls draw their lines from one small set, with
    repeats), the rest from ``spare`` (lines of that set no call holds).

    Returns:
        (``Quote`` list, the label of each: ``true``, ``form``, an edit kind, ``absent``;
        how many misquotes are of a line a true quote also takes; how many absent lines
        came from ``spare``).
    """
    from pipeline.records import Quote

    rng = random.Random(SEED)
    lines = list({_plain(x.text): x for x in searched if len(x.text.split()) >= MIN_WORDS}.values())
    rng.shuffle(lines)
    n_absent, n_mis = round(0.15 * n), round(0.40 * n)
    n_true = n - n_absent - n_mis
    made: list[tuple[str, str]] = []
    for k in range(n_true if lines else 0):
        text = lines[k % len(lines)].text
        form = form_variant(text, rng) if k % 3 == 2 else None
        made.append((form, "form") if form and form != text else (text, "true"))
    quoted = {lines[k % len(lines)].text for k in range(n_true)} if lines else set()
    order = lines[n_true:] + lines[:n_true] if len(lines) > n_true else lines
    misquotes: list[tuple[str, str]] = []
    paired = 0
    for m in range(3 * len(order)):
        if len(misquotes) >= n_mis:
            break
        text = order[m % len(order)].text
        for k in range(len(KINDS)):
            edit = one_edit(text, KINDS[(m + k) % len(KINDS)], rng)
            if edit:
                misquotes.append(edit)
                paired += text in quoted
                break
    made += misquotes
    items = [(x, []) for x in searched]
    absent = absent_lines(items, pool, n_absent)
    taken = {_plain(x.text) for x in absent}
    extra = absent_lines(items, [x for x in spare if _plain(x.text) not in taken],
                         n_absent - len(absent)) if len(absent) < n_absent else []
    made += [(x.text, "absent") for x in absent + extra]
    rng.shuffle(made)
    quotes = [Quote(f"q{i}", f"article-{i % 8 + 1}.txt", text, [text])
              for i, (text, _) in enumerate(made, 1)]
    return quotes, [label for _, label in made], paired, len(extra)


# --------------------------------------------------------------------------- runs


def transcribe_calls(paths: list[str], out: Path, threads: int):
    """The calls transcribed as ``dispatch verify`` transcribes a folder, each transcript
    given its call; (transcripts, seconds, the cache of decoded audio).

    The engine is loaded before timing; decoding audio is timed with transcription.
    """
    from pipeline.batch import AudioCache, find_recordings, run_batch
    from pipeline.calls import CallReader
    from pipeline.engines import load_engine
    from pipeline.speakers.radio import attach_calls
    from pipeline.transcribe import TranscribeOptions
    from pipeline.workspace import Workspace

    options = TranscribeOptions(model="tiny.en")
    engine = load_engine(options.model, options.engine, threads=threads)
    cache = AudioCache()
    started = time.perf_counter()
    recordings = find_recordings(paths)
    found = CallReader().read_all(recordings)
    with Workspace(out) as workspace:
        summary = run_batch(recordings, options, workspace, engine=engine, samples_for=cache)
    attach_calls(summary.transcripts, found)
    seconds = time.perf_counter() - started
    if summary.failures:
        raise RuntimeError(f"calls that failed: {summary.failures}")
    return summary.transcripts, seconds, cache


@contextmanager
def timed(module, names: tuple[str, ...], spent: dict):
    """For the block, each of ``module``'s functions ``names`` wrapped to add its seconds
    and calls to ``spent[name]`` (adjudicate's seconds split by whether they fall in the
    weak-match search, ``_second_chance``)."""
    kept = {name: getattr(module, name) for name in names}
    inside = []

    def wrap(name, inner):
        def timed_call(*args, **kwargs):
            if name == "_second_chance":
                inside.append(True)
            t = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                s = time.perf_counter() - t
                if name == "_second_chance":
                    inside.pop()
                key = name + (" (search)" if name == "adjudicate" and inside else "")
                seconds, calls = spent.get(key, (0.0, 0))
                spent[key] = (seconds + s, calls + 1)
        return timed_call

    for name, inner in kept.items():
        setattr(module, name, wrap(name, inner))
    try:
        yield spent
    finally:
        for name, inner in kept.items():
            setattr(module, name, inner)


def run_verify(quotes, transcripts, cache, threads: int):
    """``verify_quotes`` over all the quotes, default options, scorers loaded first:
    (checks, seconds, seconds and calls of each wrapped function)."""
    from pipeline import verify
    from pipeline.scoring import Scorer
    from pipeline.verify import VerifyOptions

    options = VerifyOptions()
    scorers = [Scorer.load(options.judge_model, threads=threads)] + (
        [Scorer.load(options.witness_model)] if options.witness_model else [])
    spent: dict[str, tuple[float, int]] = {}
    with timed(verify, ("adjudicate", "compare_line_versions", "_second_chance"), spent):
        started = time.perf_counter()
        checks = verify.verify_quotes(quotes, transcripts, cache, scorers, options)
        seconds = time.perf_counter() - started
    return checks, seconds, spent


# --------------------------------------------------------------------------- report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=40, help="calls searched (transcribed)")
    ap.add_argument("--quotes", type=int, default=100, help="quotes checked")
    ap.add_argument("--held-back", type=int, default=10,
                    help="more calls, never transcribed, whose lines are the absent quotes")
    ap.add_argument("--threads", type=int, default=1,
                    help="CPU threads of the engine and the judge (0: the libraries' default)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("-v", "--verbose", action="store_true", help="log every quote's verdict")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(message)s")

    printout = Printout()
    say = printout.say
    with tempfile.TemporaryDirectory() as tmp:
        calls, lines, unused = build_folder(args.calls + args.held_back, Path(tmp) / "calls")
        back = held_back(calls, args.held_back)
        searched = [c for c in calls if str(c.path) not in back]
        quotes, labels, paired, spare = build_quotes(
            [x for c in searched for x in lines[str(c.path)]], [x for p in back for x in lines[p]],
            unused, args.quotes)
        transcripts, transcribe_s, cache = transcribe_calls([str(c.path) for c in searched],
                                                            Path(tmp) / "out", args.threads)
        checks, verify_s, spent = run_verify(quotes, transcripts, cache, args.threads)
    for q, label, c in zip(quotes, labels, checks):
        logging.info("%-11s %-12s %s | %s", label, c.verdict, q.text, "; ".join(c.differences + c.reasons))

    audio_s = sum(c.duration for c in searched)
    n = len(quotes)
    per_quote = verify_s / n if n else float("nan")
    count = {k: sum(1 for x in labels if x == k) for k in ("true", "form", "absent")}
    mis = n - sum(count.values())
    say(f"folder: {len(searched)} calls searched, {audio_s:.0f} s of audio "
        f"({min(c.duration for c in searched):.1f}-{max(c.duration for c in searched):.1f} s each), "
        f"{len(TALKGROUPS)} talkgroups, trunk-recorder layout; {len(back)} more held back for "
        f"absent lines")
    say(f"quotes: {count['true'] + count['form']} true ({count['form']} in another published "
        f"form), {mis} one-edit misquotes ({paired} of them of a line also quoted true), "
        f"{count['absent']} absent ({count['absent'] - spare} of the held-back calls' lines, {spare} "
        "of the lines build_calls draws from that no call holds)")
    say("transcription: tiny.en (faster-whisper), default options, calls alone, engine loaded "
        f"before timing; judge base, witness tiny.en, default VerifyOptions; threads {args.threads}")
    say()
    search_s, searched_n = spent.get("_second_chance", (0.0, 0))
    placed_s, placed_n = spent.get("adjudicate", (0.0, 0))
    in_search_s, in_search_n = spent.get("adjudicate (search)", (0.0, 0))
    versions_s, _ = spent.get("compare_line_versions", (0.0, 0))
    adjudicate_s = placed_s + in_search_s
    rest_s = verify_s - placed_s - versions_s - search_s

    def share(s: float) -> str:
        return f"{100 * s / verify_s:5.1f} %" if verify_s else "    - "

    rows = [("quotes", f"{n}"), ("calls", f"{len(searched)}"), ("audio seconds", f"{audio_s:.1f}"),
            ("transcription seconds", f"{transcribe_s:.1f}"), ("verify seconds", f"{verify_s:.1f}"),
            ("s/quote", f"{per_quote:.2f}"),
            ("weak-match search", f"{share(search_s)} ({search_s:.1f} s, {searched_n} quotes searched)"),
            ("adjudicate", f"{share(adjudicate_s)} ({adjudicate_s:.1f} s, "
                           f"{placed_n + in_search_n} calls)")]
    for name, value in rows:
        say(f"{name:<24s} {value}")
    say()
    say("where verify's time goes:")
    for name, s, note in (
            ("judging at the located place", placed_s, f"{placed_n} adjudications, other places "
             "a contradicted quote is judged at included"),
            ("versions comparison", versions_s, "compare_line_versions"),
            ("weak-match search", search_s, f"{searched_n} quotes; {in_search_s:.1f} s in its "
             f"{in_search_n} adjudications, the rest scoring other transmissions' audio"),
            ("the rest", rest_s, "indexing, locating, cutting audio, calibrating")):
        say(f"  {name:<30s} {s:7.1f} s {share(s)}  ({note})")
    say()
    met = per_quote <= TARGET_S
    say(f"verify <= {TARGET_S:g} s per quote: " + (f"met ({per_quote:.2f} s, by {TARGET_S - per_quote:.2f} s)"
                                                  if met else f"missed by {per_quote - TARGET_S:.2f} s "
                                                  f"({per_quote:.2f} s)"))
    say()
    verdicts = [(x, c.verdict, c.confidence if c.confidence is not None else 0.0)
                for x, c in zip(labels, checks)]
    say(HEADER.format("verdicts"))
    say(f"{'verify':<11} " + _figures(verdicts, per_quote))
    say(_reliability(verdicts))
    if all(c.confidence is None for c in checks):
        say("(no verdict has a confidence: the calibration table has no bins for them)")
    printout.write(args.out)


if __name__ == "__main__":
    main()
