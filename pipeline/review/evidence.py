"""Evidence packets: one folder per quote that someone can check by ear and by hash.

Each packet holds ``clip.wav`` (the span with context, lossless 16-bit PCM at the
16 kHz the models heard), ``manifest.json`` (tool version, the recording's path and
SHA-256, the clip's times and hash, the transcription model, engine and options with
the weights' pinned SHA-256, the judging options, the scores and reasons behind the
verdict, and the reviewer's decision with its history) and ``words.csv`` (the
quote's words with their statuses and times). With only the packet and the original
recording, a reader can confirm the recording by its hash, cut the same span, and
listen.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import logging
import sqlite3
from pathlib import Path

from pipeline import __version__
from pipeline.audio import SAMPLE_RATE
from pipeline.errors import DispatchError
from pipeline.review import store
from pipeline.review.clips import CACHE_DIR, AudioCache, ClipError, clip_samples, wav_bytes
from pipeline.review.results import Card, Recording, Results, load_results

log = logging.getLogger(__name__)

WORD_FIELDS = ["word_index", "word", "status", "start_s", "end_s", "probability", "heard"]


class EvidenceError(DispatchError):
    """Quote ids that are not in the results folder."""


def write_evidence(results_dir: str | Path, quote_ids: list[str], out_dir: str | Path, *,
                   all_quotes: bool = False, audio_roots: tuple = ()) -> list[Path]:
    """Write an evidence packet per quote.

    Args:
        results_dir: The results folder.
        quote_ids: The quotes to write packets for.
        out_dir: Where the packets go, one folder each (named after the quote id).
        all_quotes: Write a packet for every quote instead.
        audio_roots: Extra folders to find recordings in.

    Returns:
        The packet folders written.

    Raises:
        ReviewError: The folder holds no verify run.
        EvidenceError: A quote id is not in the results.
    """
    results = load_results(results_dir, audio_roots)
    cards = list(results.cards) if all_quotes else [results.card(q) for q in quote_ids]
    unknown = [q for q, c in zip(quote_ids, cards) if c is None] if not all_quotes else []
    if unknown:
        raise EvidenceError(f"not in {results.directory / 'quotes.csv'}: {', '.join(unknown)}")
    hashes = {k: r.sha256 for k, r in results.recordings.items()}
    cache = AudioCache(results.directory / CACHE_DIR)
    with store.DecisionStore(results.workspace) as decisions:
        by_id, by_fp = decisions.all_latest()
        written = []
        for card in cards:
            basis = store.row_basis(card.row, hashes)
            found = store.match(card.quote_id, store.basis_fingerprint(basis), by_id, by_fp)
            history = decisions.history(card.quote_id)
            written.append(_packet(results, card, basis, found, history, cache, Path(out_dir)))
    return written


def packet_name(quote_id: str) -> str:
    """A folder name for a quote id (odd characters replaced).

    >>> packet_name("night-the-police-walked-away:6")
    'night-the-police-walked-away_6'
    """
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in quote_id).strip(".") or "quote"


def _packet(results: Results, card: Card, basis: dict, found: store.Match, history, cache: AudioCache,
            out_dir: Path) -> Path:
    folder = out_dir / packet_name(card.quote_id)
    folder.mkdir(parents=True, exist_ok=True)
    rec = results.recordings.get(card.recording) if card.recording else None
    clip = _write_clip(card, rec, cache, folder)
    _write_words(card, folder / "words.csv")
    manifest = _manifest(results, card, rec, basis, found, history, clip)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
    log.info("evidence for %s in %s", card.quote_id, folder)
    return folder


def _write_clip(card: Card, rec: Recording | None, cache: AudioCache, folder: Path) -> dict:
    if not card.located or rec is None:
        return {"file": None, "why": "the quote was not located in a recording the workspace holds"}
    start, end = card.clip
    try:
        data = wav_bytes(clip_samples(cache.samples(rec), start, end))
    except ClipError as e:
        return {"file": None, "why": str(e)}
    (folder / "clip.wav").write_bytes(data)
    return {
        "file": "clip.wav", "sha256": hashlib.sha256(data).hexdigest(), "start_s": start, "end_s": end,
        "sample_rate": SAMPLE_RATE, "channels": 1, "format": "WAV, 16-bit PCM",
        "made_by": "the recording decoded to mono at 16 kHz (pipeline.audio.load_audio), "
                   "samples from round(start_s * 16000) to round(end_s * 16000)",
    }


def _write_words(card: Card, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=WORD_FIELDS, lineterminator="\n")
        writer.writeheader()
        for w in card.words:
            writer.writerow({k: ("" if getattr(w, k) is None else str(getattr(w, k))) for k in WORD_FIELDS})


def _manifest(results: Results, card: Card, rec: Recording | None, basis: dict, found: store.Match,
              history, clip: dict) -> dict:
    decision = found.current
    row = card.row
    return {
        "tool": {"name": "dispatch", "version": __version__},
        "quote": {"quote_id": card.quote_id, "source": card.source, "text": card.text,
                  "attributed_to": card.attributed_to, "fingerprint": store.basis_fingerprint(basis),
                  "fingerprint_basis": basis},
        "recording": None if rec is None else {
            "path": rec.recording, "found_at": str(rec.path) if rec.path else None,
            "sha256": rec.sha256, "duration_s": rec.duration, "problem": rec.problem or None},
        "span": {"start_s": card.start_s, "end_s": card.end_s, "listen_start_s": card.listen_start_s,
                 "listen_end_s": card.listen_end_s},
        "clip": clip,
        "transcription": _transcription(results.workspace, rec),
        "judging": _judging(),
        "verdict": {
            "verdict": str(card.verdict), "confidence": card.confidence, "speaker": card.speaker,
            "heard_text": card.heard_text, "differences": card.differences, "reasons": card.reasons,
            "omitted_text": card.omitted_text, "context_before": card.context_before,
            "context_after": card.context_after, "line_id": card.line_id,
            "attribution_ok": card.attribution_ok, "splice_gap_s": row.get("splice_gap_s") or None,
            "review_rank": card.review_rank,
        },
        "decision": decision.as_json() if decision else None,
        "stale_decision": found.decision.as_json() if found.stale else None,
        "decision_history": [d.as_json() for d in history],
        **store.review_values(card.verdict, found),
        "how_to_check": (
            "1. sha256sum the original recording: it must equal recording.sha256. "
            "2. Listen to clip.wav, or cut clip.start_s to clip.end_s from the recording "
            "(decoded to 16 kHz mono, its sha256 then equals clip.sha256). "
            "3. words.csv gives each quoted word's status and times in the recording."),
    }


def _transcription(workspace: Path, rec: Recording | None) -> dict | None:
    """Model, engine and options of the recording's transcript, from the workspace."""
    if rec is None or not workspace.is_file():
        return None
    db = sqlite3.connect(workspace, timeout=30)
    try:
        row = db.execute(
            "SELECT t.model, t.engine, t.options FROM recordings r JOIN transcripts t ON t.key = r.key"
            " WHERE r.recording = ?", (rec.recording,)).fetchone()
    except sqlite3.Error:
        row = None
    finally:
        db.close()
    if row is None:
        return None
    model, engine, options = row
    return {"model": model, "weights": weights(model), "engine": engine, "options": json.loads(options)}


def _judging() -> dict:
    """The judging models and options: this version's defaults (verify does not record them)."""
    try:
        from pipeline.verify import VerifyOptions
    except ImportError:  # pragma: no cover - a broken install
        return {"recorded": False}
    options = VerifyOptions()
    return {
        "recorded": False,
        "note": "verify does not record its options in the workspace; these are the defaults of "
                "this version, which `dispatch verify` uses unless --judge or --witness was given",
        "judge_model": options.judge_model, "judge_weights": weights(options.judge_model),
        "witness_model": options.witness_model,
        "witness_weights": weights(options.witness_model) if options.witness_model else None,
        "options": dataclasses.asdict(options),
    }


def weights(model: str) -> dict[str, str]:
    """The pinned SHA-256 of each weight file of a registry model (empty for others)."""
    from pipeline.models import REGISTRY

    spec = REGISTRY.get(model)
    if spec is None:
        return {}
    pins = {name: pin.sha256 for name, pin in spec.files.items()}
    if spec.joined_sha256:
        pins["model.bin"] = spec.joined_sha256
    return dict(sorted(pins.items()))
