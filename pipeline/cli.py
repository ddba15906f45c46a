"""The ``dispatch`` command: parse options, call one library function, print the result.

This is the only module that talks to the user.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline import __version__

if TYPE_CHECKING:
    from pipeline.tablepaths import TablePaths

DEFAULT_OUT = "results"
TABLES = ("segments", "words", "speakers", "quotes")
"""What ``dispatch export`` writes: the transcripts' segments or words, the speaker turns, or
the checked quotes."""
SPEAKER_FORMAT = "rttm"
"""The one format of the speakers table, beside the export formats of the transcripts."""
GLOSSARY_PROMPT_HELP = ("its terms (unit names, streets, talkgroup tags) also go into the recognition "
                        "prompt, after --prompt, within Whisper's 224 tokens")
"""What ``--glossary`` does to transcription, said in the help of both commands."""


class RegistryChoice(click.Choice):
    """A choice of the names in a library registry, read only when a command needs them.

    The registries live in modules that import numpy, so ``dispatch --help`` stays
    instant by not importing them until a choice is checked or a command's help shown.
    """

    def __init__(self, names: Callable[[], Sequence[str]]):
        self._names = functools.cache(names)
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self._names())

    @choices.setter
    def choices(self, _value) -> None:
        """Click sets the choices on construction; they come from the registry instead."""


def _engines() -> Sequence[str]:
    from pipeline.engines import ENGINES

    return ENGINES


def _export_formats() -> Sequence[str]:
    from pipeline.export import FORMATS
    from pipeline.formats import QUOTE_FORMATS

    return tuple(dict.fromkeys((*FORMATS, SPEAKER_FORMAT, *QUOTE_FORMATS)))


@contextlib.contextmanager
def library_errors() -> Iterator[None]:
    """Turn the library's errors into one-line messages and exit status 1."""
    from pipeline.errors import DispatchError

    try:
        yield
    except (DispatchError, FileNotFoundError, ValueError) as e:
        raise click.ClickException(str(e)) from e


@contextlib.contextmanager
def writing(out_dir: str) -> Iterator[None]:
    """Be the one process writing ``out_dir``; its write failures become one-line messages."""
    from pipeline.files import output_errors
    from pipeline.workspace import locked

    with library_errors(), locked(out_dir), output_errors(out_dir):
        yield


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dispatch")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.option("-q", "--quiet", is_flag=True,
              help="For scripts: no progress, no stage names, no summary lines; only errors, "
                   "warnings about the recordings, and the results.")
def cli(verbose: int, quiet: bool) -> None:
    """Transcribe dispatch radio recordings and check published quotes against them."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=logging.ERROR if quiet else level,
                        format="%(levelname)s %(name)s: %(message)s")


def quiet_run() -> bool:
    """Whether ``dispatch -q`` was given (the group's option, for every command)."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().params.get("quiet"))


def info(message: str = "", **kwargs) -> None:
    """Tell the user what was done, unless ``dispatch -q`` asked for the results only."""
    if not quiet_run():
        click.echo(message, **kwargs)


def transcribe_options(f):
    """Options shared by ``transcribe`` and ``verify``."""
    decorators = [
        click.option("--model", default="tiny.en", show_default=True,
                     help="Registry name (tiny.en, base), CTranslate2 folder or .pt file."),
        click.option("--engine", type=RegistryChoice(_engines), default="faster-whisper",
                     show_default=True),
        click.option("--beam-size", default=5, show_default=True, type=click.IntRange(1, 20)),
        click.option("--prompt", default=None,
                     help="Text that biases recognition (unit names, streets, ten-codes)."),
        click.option("--vocab", type=click.Path(exists=True, dir_okay=False), default=None,
                     help="File of words/phrases, one per line, to bias recognition toward."),
        click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 64),
                     help="Worker processes."),
        click.option("--threads", default=0, type=click.IntRange(0, 256),
                     help="CPU threads per worker (0: automatic)."),
        click.option("--cluster", default=None, metavar="ADDRESS|local[:N]",
                     help="Transcribe on a Dask scheduler (tcp://host:8786), or on N worker "
                          "processes started here (local:N)."),
        click.option("--ship-audio", is_flag=True,
                     help="Send each recording's bytes to the cluster's workers, for workers "
                          "that cannot read its path."),
        click.option("--no-pack", is_flag=True,
                     help="Transcribe each transmission alone instead of packing 30 s windows."),
        click.option("--out", "out_dir", default=DEFAULT_OUT, show_default=True,
                     type=click.Path(file_okay=False), help="Output folder (holds the workspace)."),
        click.option("--no-speakers", is_flag=True, help="Skip speaker labelling."),
        click.option("--speakers", "num_speakers", type=click.IntRange(1, 50), default=None,
                     help="Number of speakers, when known (default: estimated)."),
        click.option("--speaker-names", type=click.Path(exists=True, dir_okay=False),
                     default=None, help="File of 'label = name' lines (Unit 2 = Beat 833)."),
        click.option("-q", "--quiet", is_flag=True,
                     help="No progress bars or stage names and no legend under the summary "
                          "(dispatch -q also drops the summary lines)."),
        click.option("--output-format", "output_formats", default=None, metavar="FORMATS",
                     callback=_parse_output_formats,
                     help="Also write each recording as txt, vtt, srt, tsv, json, vtt-words (comma "
                          "separated) or all, as OUT/<format>/<name>.<ext>."),
        click.option("--excel", is_flag=True,
                     help="Write CSVs with a byte-order mark, so Excel on Windows opens them as UTF-8."),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def _parse_output_formats(_ctx, _param, value: str | None) -> tuple[str, ...]:
    """``--output-format``'s comma-separated names as a tuple (empty when not given)."""
    if not value:
        return ()
    from pipeline.formats import parse_output_formats

    try:
        return parse_output_formats(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from e


def _write_extras(transcripts, out_dir: str, output_formats: Sequence[str], tables: Sequence[Path],
                  excel: bool, paths: TablePaths | None = None) -> None:
    """The per-recording files of ``--output-format`` (JSON names each recording as the
    tables do, by ``paths``), and ``--excel``'s byte-order marks."""
    from pipeline import export, formats

    with writing(out_dir):
        if excel:
            for path in tables:
                if Path(path).suffix == ".csv":
                    export.with_bom(path)
        if output_formats:
            written = formats.write_transcripts(transcripts, out_dir, output_formats, paths)
            folders = sorted({str(Path(out_dir) / f) for f in output_formats})
            info(f"wrote {len(written)} files in {', '.join(folders)}")


def _options(model, engine, beam_size, prompt, vocab, no_pack, pack_calls=False, glossaries=()):
    from pipeline.engines import DecodeOptions, fit_prompt
    from pipeline.transcribe import TranscribeOptions

    prompt = _prompt(prompt, vocab)
    if glossaries:
        prompt = fit_prompt(prompt, _glossary_terms(glossaries), model)
    decode = DecodeOptions(beam_size=beam_size, initial_prompt=prompt)
    return TranscribeOptions(model=model, engine=engine, decode=decode, pack=not no_pack,
                             pack_calls=pack_calls)


def _prompt(prompt: str | None, vocab: str | None) -> str | None:
    """The recognition prompt: ``--prompt`` and the ``--vocab`` file's lines, joined."""
    parts = [prompt] if prompt else []
    if vocab:
        lines = Path(vocab).read_text(encoding="utf-8").splitlines()
        parts += [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    return ", ".join(parts) or None


def call_options(f):
    """``--unit-tags``, ``--talkgroups`` and ``--tz``, passed on as one ``CallOptions`` named
    ``calls``."""

    @click.option("--unit-tags", type=click.Path(dir_okay=False), default=None,
                  help="trunk-recorder unit tags file ('unit ID,tag' lines) naming radio units.")
    @click.option("--talkgroups", type=click.Path(dir_okay=False), default=None,
                  help="trunk-recorder talkgroups file (Decimal,Hex,Alpha Tag,Mode,Description,"
                       "Tag,Category) naming talkgroups where a call's JSON does not.")
    @click.option("--tz", default=None, metavar="ZONE",
                  help="Zone for wall-clock times (America/Chicago); also the zone of times "
                       "written without one. Default: UTC.")
    @functools.wraps(f)
    def with_calls(*args, unit_tags, talkgroups, tz, **kwargs):
        from pipeline.calls import CallOptions, read_talkgroups

        if talkgroups:
            with library_errors():
                read_talkgroups(talkgroups)  # a file that cannot be read stops the run at once
        return f(*args, calls=CallOptions(unit_tags=unit_tags, talkgroups=talkgroups, tz=tz),
                 **kwargs)

    return with_calls


def scope_options(f):
    """``--talkgroup``, ``--near`` and ``--within``, set on the ``CallOptions`` named ``calls``
    (apply under :func:`call_options`)."""

    @click.option("--talkgroup", default="", metavar="TG",
                  help="Search quotes only in calls on this talkgroup (number or tag).")
    @click.option("--near", default=None, metavar="TIME",
                  help="Search quotes only in calls around this time ('2025-10-04 21:40', "
                       "read in --tz).")
    @click.option("--within", default=None, metavar="DURATION",
                  help="How far around --near (90s, 30m, 2h). Default: 30m.")
    @functools.wraps(f)
    def with_scope(*args, talkgroup, near, within, calls, **kwargs):
        from pipeline.calls import CallError, parse_duration, parse_time, zone

        try:
            calls.talkgroup = talkgroup
            calls.within_s = parse_duration(within) if within else None
            calls.near = parse_time(near, zone(calls.tz)) if near else None
        except CallError as e:
            raise click.BadParameter(str(e)) from e
        if near and calls.near is None:
            raise click.BadParameter(f"--near {near!r} is not a time (try '2025-10-04 21:40')")
        if within and not near:
            raise click.UsageError("--within is a distance from --near: give --near too")
        return f(*args, calls=calls, **kwargs)

    return with_scope


def _print_calls(summary, lines: int = 12, width: int = 80) -> None:
    """The batch's calls: how many, on which talkgroups, the encrypted ones, and the first
    segments with their wall-clock time, talkgroup and unit."""
    from pipeline.calls import iso

    if not summary.calls or quiet_run():
        return
    secret = [c for c in summary.calls if c.encrypted]
    groups = sorted({f"{c.talkgroup} {c.talkgroup_tag}".strip() for c in summary.calls
                     if c.talkgroup and not c.encrypted})
    click.echo(f"{len(summary.calls) - len(secret)} calls on {', '.join(groups) or '?'}"
               + (f"; {len(secret)} encrypted, listed in calls.csv, not transcribed"
                  if secret else ""))
    rows = sorted(((t.call.at(s.start), t.call, s) for t in summary.transcripts
                   if t.call is not None and t.call.started_at is not None for s in t.segments),
                  key=lambda r: r[0])
    if rows:
        click.echo(f"{'time':<8}  {'tg':>5}  {'unit':<18}  heard")
    for when, call, seg in rows[:lines]:
        head = f"{iso(when)[11:19]}  {call.talkgroup:>5}  {(seg.speaker or seg.unit)[:18]:<18}  "
        text = seg.text.strip()
        room = width - len(head)
        click.echo(head + (text if len(text) <= room else text[: room - 1] + "…"))
    if len(rows) > lines:
        click.echo(f"... {len(rows) - lines} more segments in segments.csv")


def _print_summary(summary) -> None:
    """What a batch did, the tables it wrote, and each recording that failed."""
    n = len(summary.transcripts)
    info(
        f"{n} recording{'s' * (n != 1)} ({summary.transcribed} transcribed, {summary.cached} "
        f"already in the workspace):\n  {summary.audio_hours * 60:.1f} min of audio, "
        f"{summary.speech_hours * 60:.1f} min of speech, in {summary.seconds:.1f} s"
    )  # two lines, so an 80-column terminal does not break them mid-phrase
    info(f"wrote {' and '.join(str(p) for p in summary.tables)}")
    for t in summary.transcripts:
        for note in t.warnings:
            click.echo(f"WARNING {t.recording}: {note}", err=True)
    for f in summary.failures:
        click.echo(f"FAILED {f.recording}: {f.reason}", err=True)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@transcribe_options
@click.option("--glossary", "glossaries", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="An agency's glossary CSV (kind,written,said,source): "
                   f"{GLOSSARY_PROMPT_HELP}, kept in order until it is full.")
@click.option("--pack-calls/--no-pack-calls", default=False, show_default=True,
              help="Pack the transmissions of consecutive short calls of one talkgroup into "
                   "shared 30 s windows (faster on a folder of calls; a call's words then "
                   "depend on the calls beside it).")
@call_options
def transcribe(paths, model, engine, beam_size, prompt, vocab, jobs, threads, no_pack, out_dir,
               no_speakers, num_speakers, speaker_names, quiet, cluster, ship_audio, output_formats,
               excel, glossaries, pack_calls, calls=None):
    """Transcribe recordings (files or folders) into segments.csv and words.csv.

    Finished recordings are kept in a workspace in the output folder: a re-run
    transcribes nothing again, and a killed batch resumes where it stopped.

    \b
    Example:
        dispatch transcribe audio_samples/ --out results/
        dispatch transcribe night.mp3 --model base --prompt "Beat 833, 10-4"
        dispatch transcribe calls/ --glossary agency-glossary.csv
        dispatch transcribe /shared/calls/ --cluster tcp://10.0.0.5:8786
        dispatch transcribe calls/ --output-format srt,txt   # results/srt/<name>.srt ...
    """
    from pipeline.batch import transcribe_paths

    options = _options(model, engine, beam_size, prompt, vocab, no_pack, pack_calls, glossaries)
    speakers = _speaker_settings(no_speakers, num_speakers, speaker_names)
    with writing(out_dir):
        summary = transcribe_paths(paths, options, out_dir, calls=calls, jobs=jobs, threads=threads,
                                   speakers=speakers, progress=not (quiet or quiet_run()),
                                   cluster=_cluster_spec(cluster, ship_audio))
    _write_extras(summary.transcripts, out_dir, output_formats, summary.tables, excel,
                  summary.table_paths)
    _print_summary(summary)
    _print_calls(summary)
    if summary.failures:
        sys.exit(1)


def _use_glossaries(paths) -> None:
    """Compare quotes with the agency glossaries too, after checking that each reads."""
    if not paths:
        return
    from pipeline import text

    _glossary_terms(paths)
    text.use_glossary(*paths)


def _glossary_terms(paths) -> list[str]:
    """The agency glossaries' terms, for the recognition prompt; a file that cannot be read
    is a one-line error."""
    from pipeline import text

    try:
        return text.glossary_terms(*paths)
    except (OSError, UnicodeDecodeError, KeyError, csv.Error) as e:
        raise click.ClickException(f"cannot read the glossary {', '.join(paths)}: {e} "
                                   "(a CSV with columns kind,written,said,source)") from e


def _cluster_spec(cluster: str | None, ship_audio: bool):
    """The ``ClusterSpec`` of ``--cluster`` and ``--ship-audio``, or None to stay on this machine."""
    if cluster is None:
        if ship_audio:
            raise click.UsageError("--ship-audio sends recordings to a cluster: give --cluster too")
        return None
    from pipeline.executors import ClusterSpec

    return ClusterSpec(cluster, ship_audio=ship_audio)


def _speaker_settings(no_speakers, num_speakers, speaker_names):
    """``SpeakerSettings`` for the batch, or None to skip labelling."""
    if no_speakers:
        return None
    from pipeline.speakers import SpeakerOptions, SpeakerSettings

    with library_errors():
        return SpeakerSettings.from_names_file(speaker_names,
                                                SpeakerOptions(num_speakers=num_speakers))


@cli.command(name="export")
@click.argument("table", type=click.Choice(TABLES))
@click.option("--format", "fmt", type=RegistryChoice(_export_formats), default="csv",
              show_default=True)
@click.option("--out", "out_dir", default=DEFAULT_OUT, show_default=True,
              type=click.Path(file_okay=False), help="Output folder holding the workspace.")
@click.option("--output-format", "output_formats", default=None, metavar="FORMATS",
              callback=_parse_output_formats,
              help="Segments as txt, vtt, srt, tsv, json, vtt-words (comma separated) or all: one "
                   "OUT/<format>/<name>.<ext> per recording.")
@click.option("--excel", is_flag=True,
              help="Write CSV with a byte-order mark, so Excel on Windows opens it as UTF-8.")
def export_cmd(table, fmt, out_dir, output_formats, excel):
    """Re-export the transcripts of the last run from the workspace, or the quotes.

    The tables hold the recordings the last finished `dispatch transcribe` (or
    `verify`) was given, each once. SRT and VTT (and every --output-format) write one
    file per recording, named after it (segments only); RTTM writes the speaker turns
    of the last labelled batch; quotes (verify's quotes.csv) are written as csv, json or
    md (a Markdown table to paste into a CMS).

    \b
    Example:
        dispatch export words --format json
        dispatch export segments --output-format srt,txt --out results/
        dispatch export speakers --format rttm
        dispatch export quotes --format md
    """
    from pipeline import export, formats
    from pipeline.files import atomic_path
    from pipeline.tablepaths import of_results
    from pipeline.workspace import FILENAME, Workspace

    if table == "quotes":
        _export_quotes(Path(out_dir), fmt, excel)
        return
    if not (Path(out_dir) / FILENAME).exists():
        raise click.ClickException(f"no workspace in {out_dir}/: run `dispatch transcribe` first")
    if (table == "speakers") != (fmt == SPEAKER_FORMAT):
        raise click.ClickException("speakers are exported as rttm, and rttm holds speakers only")
    with writing(out_dir), Workspace(out_dir) as workspace:
        _note_unfinished_run(workspace)
        transcripts = list(workspace.transcripts())
        if table == "speakers":
            _export_rttm(workspace, Path(out_dir) / "speakers.rttm")
            return
        if output_formats or fmt in ("srt", "vtt"):
            if table != "segments":
                raise click.ClickException(f"{'/'.join(output_formats) or fmt} files hold segments, "
                                           f"not {table}")
            written = formats.write_transcripts(transcripts, out_dir, output_formats or (fmt,),
                                                of_results(out_dir))
            folders = sorted({str(Path(out_dir) / f) for f in output_formats or (fmt,)})
            info(f"wrote {len(written)} files in {', '.join(folders)}")
            return
        if fmt not in export.FORMATS:
            raise click.ClickException(f"{table} are exported as csv, json or parquet, not {fmt}")
        frame = {"segments": export.segments_frame, "words": export.words_frame}[table](transcripts)
        frame = export.with_table_paths(frame, of_results(out_dir))
        path = Path(out_dir) / f"{table}.{fmt}"
        with atomic_path(path) as tmp:
            export.write_table(frame, tmp, fmt, excel=excel)
    info(f"wrote {path} ({len(frame)} rows)")


def _export_quotes(out_dir: Path, fmt: str, excel: bool) -> None:
    """verify's quotes.csv as csv (with a byte-order mark for ``--excel``), json or md."""
    from pipeline import export, formats
    from pipeline.files import atomic_path

    source = out_dir / "quotes.csv"
    if not source.exists():
        raise click.ClickException(f"no quotes.csv in {out_dir}/: run `dispatch verify` first")
    if fmt not in formats.QUOTE_FORMATS:
        raise click.ClickException(f"quotes are exported as {', '.join(formats.QUOTE_FORMATS)}, not {fmt}")
    with writing(str(out_dir)):
        rows = export.read_rows(source)
        if fmt == "csv":
            path = export.with_bom(source) if excel else source
        else:
            path = out_dir / f"quotes.{fmt}"
            render = formats.quotes_json if fmt == "json" else formats.quotes_markdown
            with atomic_path(path) as tmp:
                tmp.write_text(render(rows), encoding="utf-8")
    info(f"wrote {path} ({len(rows)} quotes)")


def _note_unfinished_run(workspace) -> None:
    """Say so when the last run was stopped, so the export holds the run before it."""
    runs, last = workspace.runs(), workspace.last_run()
    if not runs or runs[-1].finished:
        return
    shown = "what it finished" if last == runs[-1] else f"the run of {last.started} UTC"
    click.echo(f"note: the last run (started {runs[-1].started} UTC) did not finish; exporting "
               f"{shown}. Run the same `dispatch transcribe` again to finish it.", err=True)


def _export_rttm(workspace, path: Path) -> None:
    from pipeline.files import atomic_path
    from pipeline.speakers import last_turns, to_rttm

    turns = last_turns(workspace)
    if not turns:
        raise click.ClickException("no speaker labels in the workspace: run `dispatch transcribe` "
                                   "without --no-speakers first")
    with atomic_path(path) as tmp:
        tmp.write_text("".join(to_rttm(ts, Path(rec).stem) for rec, ts in turns.items()),
                       encoding="utf-8")
    info(f"wrote {path} ({sum(len(ts) for ts in turns.values())} turns)")


ENCODING_HELP = ("Encoding of articles that are not UTF-8 and do not declare one "
                 "(e.g. cp1252, latin-1).")


@cli.command()
@click.argument("articles", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the CSV here instead of standard output.")
@click.option("--encoding", default=None, help=ENCODING_HELP)
def quotes(articles, output, encoding):
    """Print the quotations found in articles as a CSV to review, edit and feed back.

    Articles are .txt, .md, .html (a page saved from the browser: its main text is
    read, with headline, byline and date) or .docx files, or folders of them. Web
    addresses are not fetched: save the page and give the file. A quotes table
    (this command's CSV, or verify's quotes.csv) or a results folder is read back too.
    The CSV has quote_id, source, text, attributed_to, recording and parts; pass an
    edited copy to `dispatch verify --quotes`.

    \b
    Example:
        dispatch quotes transcripts/ > quotes.csv
        dispatch quotes saved-page.html --encoding cp1252
        dispatch verify --quotes quotes.csv audio_samples/
    """
    from pipeline import export
    from pipeline.quotes import load_quotes, quotes_to_rows

    with library_errors():
        found = load_quotes(articles, encoding=encoding)
    frame = export.safe_frame(export.quote_table_frame(quotes_to_rows(found)))
    if output:
        from pipeline.files import atomic_path, output_errors

        with library_errors(), output_errors(Path(output).parent), atomic_path(output) as tmp:
            frame.to_csv(tmp, index=False, encoding="utf-8")
        info(f"wrote {output} ({len(frame)} quotes)", err=True)
    else:
        click.echo(frame.to_csv(index=False), nl=False)


@cli.command()
@click.option("--quotes", "quote_paths", multiple=True, required=True, type=click.Path(),
              help="Articles (.txt .md .html .docx), quotes tables (.csv .json: dispatch quotes' "
                   "CSV or verify's quotes.csv), a results folder, or folders of them.")
@click.option("--encoding", default=None, help=ENCODING_HELP)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--judge", "judge_model", default="base", show_default=True,
              help="Model that judges the audio.")
@click.option("--witness", "witness_model", default="tiny.en", show_default=True,
              help="Second model adding evidence ('none' for none).")
@click.option("--glossary", "glossaries", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="An agency's glossary CSV (kind,written,said,source) added to the shipped "
                   "one: a quote that differs from the audio only by one of its rows is minor; "
                   f"{GLOSSARY_PROMPT_HELP}.")
@transcribe_options
@call_options
@scope_options
def verify(quote_paths, encoding, paths, judge_model, witness_model, glossaries, model, engine,
           beam_size, prompt, vocab, jobs, threads, no_pack, out_dir, no_speakers, num_speakers,
           speaker_names, quiet, cluster, ship_audio, output_formats, excel, calls=None):
    """Check quoted lines against recordings: found? where? who? word for word?

    Transcribes what the workspace lacks, locates every quote, lets the audio judge
    each one, and writes quotes.csv and quote_words.csv beside segments.csv and
    words.csv. The tables of an earlier verify in the same folder are moved to
    OUT/runs/<date>T<time>/ first, never replaced.

    \b
    Example:
        dispatch verify --quotes transcripts/ audio_samples/
        dispatch verify --quotes quotes.csv calls/ --out results/
    """
    from pipeline import report
    from pipeline.verify import VerifyOptions, verify_paths

    _use_glossaries(glossaries)
    options = _options(model, engine, beam_size, prompt, vocab, no_pack, glossaries=glossaries)
    speakers = _speaker_settings(no_speakers, num_speakers, speaker_names)
    witness = None if witness_model.lower() == "none" else witness_model
    verify_options = VerifyOptions(judge_model=judge_model, witness_model=witness)
    with writing(out_dir):
        run = verify_paths(quote_paths, paths, out_dir, verify_options, options, calls=calls,
                           jobs=jobs, threads=threads, speakers=speakers,
                           progress=not (quiet or quiet_run()),
                           cluster=_cluster_spec(cluster, ship_audio), encoding=encoding)
    _write_extras(run.summary.transcripts, out_dir, output_formats,
                  [*run.summary.tables, *run.paths], excel, run.summary.table_paths)
    _print_summary(run.summary)
    quiet = quiet or quiet_run()
    info()
    click.echo(report.verdict_table(run.checks, legend=not quiet))
    info(f"wrote {' and '.join(str(p) for p in run.paths)}")
    if run.summary.failures:
        sys.exit(1)


@cli.command()
@click.argument("results_dir", default=DEFAULT_OUT, required=False, type=click.Path(file_okay=False))
@click.option("--port", default=0, type=click.IntRange(0, 65535), help="Port (default: a free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; any other lets other machines reach the app.")
@click.option("--no-browser", is_flag=True, help="Print the address only; do not open a browser.")
@click.option("--reviewer", default=None, help="Name kept with each decision (default: your user name).")
@click.option("--export", "export_path", type=click.Path(dir_okay=False), default=None,
              help="Write the self-contained HTML report to this file instead of serving.")
def review(results_dir, port, host, no_browser, reviewer, export_path):
    """Review quotes in the browser: listen to each span and decide.

    Serves a local app over a results folder (default results/) and prints its
    address with an access token. Every decision is kept in the workspace and
    written into quotes.csv at once. With --export, writes one HTML file with every
    quote's final verdict, its evidence and its audio, readable offline.

    \b
    Example:
        dispatch review
        dispatch review results/ --reviewer "A. Desk" --no-browser
        dispatch review results/ --export report.html
    """
    from pipeline import review as reviewing

    with library_errors():
        if export_path:
            path = reviewing.export_report(results_dir, export_path)
            info(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
            return
        if host not in ("127.0.0.1", "localhost", "::1"):
            click.echo(f"warning: serving on {host}: anyone who reaches it with the token can decide",
                       err=True)
        reviewing.serve(results_dir, host=host, port=port, reviewer=reviewer, open_browser=not no_browser,
                        ready=lambda url: click.echo(f"Review at {url}\n(Ctrl-C to stop)"))


@cli.command()
@click.argument("quote_ids", nargs=-1)
@click.option("--out", "out_dir", default="evidence", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the packets, one folder per quote.")
@click.option("--results", "results_dir", default=DEFAULT_OUT, show_default=True,
              type=click.Path(file_okay=False), help="The results folder verify wrote.")
@click.option("--all", "all_quotes", is_flag=True, help="A packet for every quote.")
def evidence(quote_ids, out_dir, results_dir, all_quotes):
    """Write an evidence packet per quote: the clip, a manifest, the words.

    Each packet holds clip.wav (the span with context, lossless), manifest.json
    (recording path and SHA-256, times, models and options, scores, reasons, the
    reviewer's decision) and words.csv.

    \b
    Example:
        dispatch evidence night-the-police-walked-away:6 --out evidence/
        dispatch evidence --all --results results/ --out evidence/
    """
    from pipeline.review import write_evidence

    if not quote_ids and not all_quotes:
        raise click.UsageError("name at least one QUOTE_ID, or give --all")
    with library_errors():
        folders = write_evidence(results_dir, list(quote_ids), out_dir, all_quotes=all_quotes)
    info(f"wrote {len(folders)} evidence packet(s) in {out_dir}/")


@cli.command()
@click.argument("query")
@click.option("--speaker", default=None, help="Only this speaker (part of the label, any case).")
@click.option("--from", "start", default=None, metavar="TIME",
              help="From this time: seconds into a recording (95, 1:35) or a date-time "
                   "(2024-01-05T14:20) for recordings whose file names give their start.")
@click.option("--to", "end", default=None, metavar="TIME", help="Up to this time (as --from).")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1), help="Most matches shown.")
@click.option("--out", "out_dir", default=DEFAULT_OUT, show_default=True,
              type=click.Path(file_okay=False), help="Output folder holding the workspace.")
def search(query, speaker, start, end, limit, out_dir):
    """Find words in every transcript of the workspace.

    Words are matched as a phrase, normalised as quotes are located ("10-4" finds
    "ten four"). Each match shows the recording, the time, the speaker and the
    command that replays it. Exits 1 when nothing matches.

    \b
    Example:
        dispatch search "shots fired"
        dispatch search "ten four" --speaker dispatcher --from 60 --to 5:00
        dispatch search "code 3" --from 2024-01-05T14:00 --to 2024-01-05T15:00
    """
    from pipeline import search as searching
    from pipeline.workspace import FILENAME

    if not (Path(out_dir) / FILENAME).exists():
        raise click.ClickException(f"no workspace in {out_dir}/: run `dispatch transcribe` first")
    with library_errors():
        options = searching.SearchOptions(
            speaker=speaker, limit=limit,
            start=None if start is None else searching.parse_time(start),
            end=None if end is None else searching.parse_time(end))
        hits = searching.search(out_dir, query, options)
    if not hits:
        click.echo(f"no transcript in {out_dir}/ holds {query!r}", err=True)
        sys.exit(1)
    import shutil

    click.echo(searching.format_hits(hits, shutil.get_terminal_size((100, 20)).columns))


@cli.group()
def plot():
    """Pictures of a results folder.

    \b
    Example:
        dispatch plot timeline -o timeline.png
    """


@plot.command()
@click.option("-o", "--output", default="timeline.png", show_default=True, type=click.Path(dir_okay=False),
              help="The PNG to write.")
@click.option("--by", "lanes", type=click.Choice(["speaker", "talkgroup"]), default="speaker",
              show_default=True, help="One lane per speaker, or per talkgroup (trunk-recorder file names).")
@click.option("--recording", default=None, help="Only this recording (its path or file name).")
@click.option("--from", "start", default=None, metavar="TIME",
              help="From this time: seconds (95, 1:35), or a date-time (2024-01-05T14:20) for "
                   "recordings whose file names give their start.")
@click.option("--to", "end", default=None, metavar="TIME", help="Up to this time (as --from).")
@click.option("--out", "out_dir", default=DEFAULT_OUT, show_default=True,
              type=click.Path(file_okay=False), help="Output folder holding the workspace.")
def timeline(output, lanes, recording, start, end, out_dir):
    """Draw who spoke when, with the checked quotes marked by verdict, as a PNG.

    One lane per speaker (or talkgroup), a bar per transmission segment, and a
    mark per located quote of verify's quotes.csv, coloured by its verdict.

    \b
    Example:
        dispatch plot timeline -o timeline.png
        dispatch plot timeline --recording dispatch-channel.mp3 --from 60 --to 5:00
        dispatch plot timeline --by talkgroup --from 2024-01-05T14:00 --to 2024-01-05T15:00
    """
    from pipeline.plot import Lanes, TimelineOptions, plot_timeline
    from pipeline.search import parse_time
    from pipeline.workspace import FILENAME

    if not (Path(out_dir) / FILENAME).exists():
        raise click.ClickException(f"no workspace in {out_dir}/: run `dispatch transcribe` first")
    with library_errors():
        options = TimelineOptions(lanes=Lanes(lanes), recording=recording,
                                  start=None if start is None else parse_time(start),
                                  end=None if end is None else parse_time(end))
        path = plot_timeline(out_dir, output, options)
    info(f"wrote {path}")


def main() -> None:
    """Entry point of the ``dispatch`` console script."""
    cli(prog_name="dispatch")
