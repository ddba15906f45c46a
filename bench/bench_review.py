"""Benchmark: the review app on 1,000 quotes over 10 hours of audio, and the demo's report.

Generates a results folder as verify would write it (no model runs): ten one-hour
recordings of noise with a tone burst every 30 s standing in for transmissions, a
workspace with their transcripts, and 1,000 quotes spread over them. Then, in headless
Chromium (Debian's chromium and chromium-driver), it measures:

* first page interactive: from navigation start to the moment the page's script has
  bound its keys and buttons (``performance.now()`` then), and the wall time of the load;
* clip start: from a click on a card's play button to the audio element's ``playing``
  event, with the recordings already decoded into the review cache, and for the first
  clip of a recording not yet decoded (the whole hour decoded once);
* the size of the exported report of the demo's results (``--demo DIR``, default
  ``results/``, as ``make demo`` writes it; skipped when absent).

Usage:
    .venv/bin/python bench/bench_review.py [--hours 10] [--quotes 1000] [--demo results/]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipeline import export  # noqa: E402
from pipeline.records import Segment, Transcript, Transmission, Word  # noqa: E402
from pipeline.review import export_report  # noqa: E402
from pipeline.review.app import start  # noqa: E402
from pipeline.workspace import Workspace, file_sha256, transcript_key  # noqa: E402

RATE = 8000
"""Sample rate of the generated recordings (decoded to 16 kHz by the app, as any file)."""

QUOTE_COLUMNS = export.CHECK_COLUMNS
"""``quotes.csv``'s columns as verify writes them."""
WORD_COLUMNS = export.QUOTE_WORD_COLUMNS
WORDS = "units in the district ten four copy that responding on scene clear everybody out blocked".split()
VERDICTS = ["unverifiable"] * 6 + ["misquote", "not_found", "verbatim", "minor"]


def write_recording(path: Path, seconds: int, rng) -> list[tuple[float, float]]:
    """One recording: noise, and a 4-second tone burst every 30 s; returns the bursts."""
    bursts = [(float(t + 5), float(t + 9)) for t in range(0, seconds - 10, 30)]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        for minute in range(0, seconds, 60):
            t = np.arange(minute * RATE, min(minute + 60, seconds) * RATE) / RATE
            x = rng.normal(0, 0.003, t.size)
            for a, b in bursts:
                if minute <= a < minute + 60:
                    on = (t >= a) & (t < b)
                    x[on] += 0.3 * np.sin(2 * np.pi * 440 * t[on])
            w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return bursts


def transcript(recording: str, sha: str, seconds: int, bursts, rng) -> Transcript:
    segments = []
    for i, (a, b) in enumerate(bursts):
        words = [Word(a + k * 0.6, a + k * 0.6 + 0.5, str(rng.choice(WORDS)), 0.8) for k in range(6)]
        segments.append(Segment(i, a, b, " ".join(w.word for w in words), words, transmission_id=i,
                                speaker="Dispatcher" if i % 2 else "Unit 1"))
    return Transcript(recording, sha, float(seconds), "tiny.en", "faster-whisper", segments,
                      [Transmission(a - 0.25, b + 0.25, a, b) for a, b in bursts])


def make_folder(root: Path, hours: int, quotes: int) -> Path:
    rng = np.random.default_rng(0)
    results = root / "results"
    rows, words = [], []
    with Workspace(results) as ws:
        recordings = []
        for h in range(hours):
            rec = f"calls/hour-{h:02d}.wav"
            (root / "calls").mkdir(exist_ok=True)
            bursts = write_recording(root / rec, 3600, rng)
            sha = file_sha256(root / rec)
            ws.put(transcript_key(sha, "tiny.en", "faster-whisper", {}),
                   transcript(rec, sha, 3600, bursts, rng), {})
            recordings.append((rec, bursts))
    for q in range(quotes):
        rec, bursts = recordings[q % hours]
        a, b = bursts[(q // hours) % len(bursts)]
        verdict = VERDICTS[q % len(VERDICTS)]
        text = " ".join(rng.choice(WORDS, 6))
        located = verdict != "not_found"
        rows.append({
            "quote_id": f"story-{q // 40}:{q % 40}", "source": f"articles/story-{q // 40}.txt",
            "quote_text": text, "attributed_to": "the dispatcher", "verdict": verdict, "confidence": 0.5,
            "recording": rec if located else "", "start_s": a + 0.2 if located else "",
            "end_s": b - 0.2 if located else "", "speaker": "Dispatcher" if located else "",
            "heard_text": text if located else "", "differences": "", "omitted_text": "",
            "context_before": "ten four", "context_after": "copy", "line_id": f"L{q}",
            "attribution_ok": "", "splice_gap_s": "", "listen_start_s": a if located else "",
            "listen_end_s": b if located else "", "review_rank": q + 1 if verdict == "unverifiable" else "",
            "reasons": "",
        })
        if located:
            for k, word in enumerate(text.split()):
                words.append({"quote_id": rows[-1]["quote_id"], "word_index": k, "word": word,
                              "status": "match" if k != 3 else "changed",
                              "start_s": round(a + 0.2 + 0.6 * k, 2), "end_s": round(a + 0.7 + 0.6 * k, 2),
                              "probability": 0.8, "heard": ""})
    tables = (("quotes.csv", QUOTE_COLUMNS, rows), ("quote_words.csv", WORD_COLUMNS, words))
    for name, columns, table in tables:
        with open(results / name, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(table)
    return results


def browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--autoplay-policy=no-user-gesture-required", "--proxy-server=127.0.0.1:9",
                "--window-size=1100,900", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


CLICK = """
const done = arguments[arguments.length - 1];
const el = review.cards[arguments[0]];
const a = el.querySelector('audio');
const t = performance.now();
a.addEventListener('playing', () => { const dt = performance.now() - t; a.pause(); done(dt); }, {once: true});
el.querySelector('button.play-span').click();
"""


def first_page(driver, url: str) -> tuple[float, float]:
    t = time.perf_counter()
    driver.get(url)
    while not driver.execute_script("return document.body.dataset.ready === '1'"):
        time.sleep(0.01)
    wall = time.perf_counter() - t
    return float(driver.execute_script("return document.body.dataset.readyAt")) / 1000, wall


def clip_starts(driver, n: int) -> list[float]:
    count = driver.execute_script("return review.cards.length")
    return [driver.execute_async_script(CLICK, i % count) / 1000 for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=int, default=10)
    parser.add_argument("--quotes", type=int, default=1000)
    parser.add_argument("--demo", default="results", help="the demo's results folder (make demo)")
    args = parser.parse_args()
    print(f"# bench_review.py --hours {args.hours} --quotes {args.quotes} --demo {args.demo}")
    print(f"# {platform.platform()}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        results = make_folder(root, args.hours, args.quotes)
        print(f"generated {args.quotes} quotes over {args.hours} h of audio "
              f"in {time.perf_counter() - t:.1f} s")
        cwd = os.getcwd()
        os.chdir(root)
        driver = browser(root / "profile")
        try:
            server = start(results, reviewer="bench", warm=False)
            driver.get(server.url)  # the token visit: sets the cookie
            t = time.perf_counter()
            cold = clip_starts(driver, 1)[0]
            print(f"first clip of a recording not yet decoded (1 h decoded into the cache): {cold:.2f} s")
            t = time.perf_counter()
            for rec in server.state.results.recordings.values():
                server.state.audio.samples(rec)
            print(f"decoding the other recordings into the cache: {time.perf_counter() - t:.1f} s")
            runs = [first_page(driver, server.url.split("?")[0]) for _ in range(5)]
            ready = [r[0] for r in runs]
            print(f"first page interactive (script bound, from navigation start): median "
                  f"{statistics.median(ready):.3f} s, worst {max(ready):.3f} s over {len(runs)} loads "
                  f"(wall time of the load: median {statistics.median(r[1] for r in runs):.3f} s)")
            starts = clip_starts(driver, 25)
            print(f"clip start after a click (decoded audio): median {statistics.median(starts):.3f} s, "
                  f"worst {max(starts):.3f} s over {len(starts)} clicks")
            server.stop()
        finally:
            driver.quit()
            os.chdir(cwd)
    demo = Path(args.demo)
    if (demo / "quotes.csv").is_file():
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "results"
            shutil.copytree(demo, copy, ignore=shutil.ignore_patterns("review-cache"))
            t = time.perf_counter()
            out = export_report(copy, Path(tmp) / "report.html")
            print(f"demo report ({demo}): {out.stat().st_size / 1e6:.2f} MB, written in "
                  f"{time.perf_counter() - t:.1f} s")
    else:
        print(f"demo report: skipped ({demo}/quotes.csv is missing; run make demo)")


if __name__ == "__main__":
    main()
