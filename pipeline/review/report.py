"""The self-contained HTML report for the desk: one file, every quote, its audio.

The report holds every quote's final verdict (the reviewer's where one applies, else
the audio's), who decided, the evidence verify found and the clip itself, embedded as
a WAV data URI. It makes no request of any kind: its Content-Security-Policy allows
only its own inline script and style (by hash) and embedded media, so it reads
offline, survives being attached to an email, and needs nothing but a browser years
later. Clips are 16-bit PCM WAV, the most durable format browsers play, at 8 kHz by
default: radio is band-limited to about 3.4 kHz, and the demo's report stays near
2 MB (at 16 kHz it would pass 5 MB).
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from pipeline import __version__
from pipeline.records import Verdict
from pipeline.review import store
from pipeline.review.app import static_text
from pipeline.review.clips import CACHE_DIR, AudioCache, ClipError, clip_samples, downsample, peaks, wav_bytes
from pipeline.review.results import CONTEXT_S, Results, load_results
from pipeline.review.views import CardView, card_view, environment

log = logging.getLogger(__name__)

REPORT_RATE = 8000
"""Sample rate of the report's clips, in Hz."""


def _csp(js: str, css: str) -> str:
    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    return (f"default-src 'none'; script-src {digest(js)}; style-src {digest(css)}; "
            "media-src data:; img-src data:; base-uri 'none'; form-action 'none'")


def card_views(results: Results) -> list[CardView]:
    """Every card's view, in review order, with its decision as it stands."""
    hashes = {k: r.sha256 for k, r in results.recordings.items()}
    with store.DecisionStore(results.workspace) as decisions:
        by_id, by_fp = decisions.all_latest()
    return [card_view(results, c, i, store.match(c.quote_id, store.basis_fingerprint(
        store.row_basis(c.row, hashes)), by_id, by_fp)) for i, c in enumerate(results.cards, start=1)]


def export_report(results_dir: str | Path, out: str | Path, *, rate: int = REPORT_RATE,
                  audio_roots: tuple = ()) -> Path:
    """Write the self-contained HTML report of a results folder.

    Args:
        results_dir: The results folder.
        out: The HTML file to write.
        rate: Sample rate of the embedded clips in Hz.
        audio_roots: Extra folders to find recordings in.

    Returns:
        The file written.

    Raises:
        ReviewError: The folder holds no verify run.
    """
    results = load_results(results_dir, audio_roots)
    views = card_views(results)
    clips, shapes = _media(results, views, rate)
    js, css = static_text("review.js"), static_text("review.css")
    finals = Counter(v.final_verdict for v in views)
    html = environment().get_template("report.html").render(
        title=str(results.directory), csp=_csp(js, css), css=css, js=js, views=views, clips=clips,
        peaks=shapes, rate=rate, context=CONTEXT_S, version=__version__, total=len(views),
        made=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        counts=[(v.value, finals[v]) for v in Verdict if finals[v]],
        reviewed=sum(1 for v in views if v.decision), stale=sum(1 for v in views if v.match.stale),
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    log.info("wrote %s (%d bytes, %d clips)", out, out.stat().st_size, len(clips))
    return out


def _media(results: Results, views: list[CardView], rate: int) -> tuple[dict, dict]:
    """Each located card's clip as a data URI and its waveform peaks, by quote id."""
    cache = AudioCache(results.directory / CACHE_DIR)
    clips: dict[str, str] = {}
    shapes: dict[str, list[float]] = {}
    for v in views:
        if not v.card.located or v.recording is None or v.problem:
            continue
        try:
            samples = clip_samples(cache.samples(v.recording), *v.card.clip)
        except ClipError as e:
            v.problem = str(e)
            continue
        shapes[v.card.quote_id] = peaks(samples)
        data = wav_bytes(downsample(samples, rate), rate)
        clips[v.card.quote_id] = "data:audio/wav;base64," + base64.b64encode(data).decode()
    return clips, shapes
