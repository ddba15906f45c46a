"""The timeline picture: lanes per speaker or talkgroup, quotes marked by verdict, time ranges."""

from datetime import datetime

import pytest
from click.testing import CliRunner

from pipeline import cli as cli_module
from pipeline import export
from pipeline.plot import (
    Lanes,
    PlotError,
    TimelineOptions,
    axis_origins,
    plot_timeline,
    quote_marks,
    timeline_bars,
)
from pipeline.records import Segment, Transcript, Verdict
from pipeline.workspace import Workspace

PNG = b"\x89PNG\r\n\x1a\n"


def recording(path, lines, duration=60.0):
    segments = [Segment(n, a, b, " words", speaker=who) for n, (a, b, who) in enumerate(lines)]
    return Transcript(recording=path, sha256=path, duration=duration, model="tiny.en",
                      engine="faster-whisper", segments=segments)


CHANNEL = recording("calls/channel.wav", [(1.0, 3.0, "Dispatcher"), (5.0, 6.0, "Unit 1"),
                                          (40.0, 44.0, "Dispatcher")])
OTHER = recording("calls/other.wav", [(2.0, 4.0, "Unit 2")])
QUOTES = [
    {"quote_id": "a:1", "verdict": "verbatim", "recording": "calls/channel.wav", "start_s": 1.2,
     "speaker": "Dispatcher"},
    {"quote_id": "a:2", "verdict": "unverifiable", "final_verdict": "misquote",
     "recording": "calls/channel.wav", "start_s": 40.5, "speaker": "Dispatcher"},
    {"quote_id": "a:3", "verdict": "not_found", "recording": None, "start_s": None, "speaker": None},
]


def test_recordings_without_a_start_in_their_names_follow_one_another():
    origins = axis_origins([CHANNEL, OTHER])
    assert origins == {"calls/channel.wav": 0.0, "calls/other.wav": 60.0}
    bars = timeline_bars([CHANNEL, OTHER], origins, TimelineOptions())
    assert [(b.lane, b.start, b.end) for b in bars] == [
        ("Dispatcher", 1.0, 3.0), ("Unit 1", 5.0, 6.0), ("Dispatcher", 40.0, 44.0), ("Unit 2", 62.0, 64.0)]


def test_quotes_are_marked_where_located_with_the_final_verdict():
    origins = axis_origins([CHANNEL])
    marks = quote_marks(QUOTES, [CHANNEL], origins, TimelineOptions())
    assert [(m.quote_id, m.lane, m.at, m.verdict) for m in marks] == [
        ("a:1", "Dispatcher", 1.2, Verdict.VERBATIM), ("a:2", "Dispatcher", 40.5, Verdict.MISQUOTE)]


def test_a_time_range_keeps_what_overlaps_it():
    origins = axis_origins([CHANNEL])
    options = TimelineOptions(start=4.0, end=30.0)
    assert [(b.lane, b.start) for b in timeline_bars([CHANNEL], origins, options)] == [("Unit 1", 5.0)]
    assert quote_marks(QUOTES, [CHANNEL], origins, options) == []


def test_trunk_recorder_calls_are_laid_on_wall_clock_time_by_talkgroup():
    calls = [recording("9131-1700000000_851.0125.wav", [(0.5, 2.0, "Unit 1")], 3.0),
             recording("9132-1700000060_851.0125.wav", [(0.0, 1.0, "Dispatcher")], 2.0)]
    origins = axis_origins(calls)
    assert all(isinstance(o, datetime) for o in origins.values())
    bars = timeline_bars(calls, origins, TimelineOptions(lanes=Lanes.TALKGROUP))
    assert [b.lane for b in bars] == ["TG 9131", "TG 9132"]
    assert (bars[1].start - bars[0].start).total_seconds() == 59.5


@pytest.fixture
def results(tmp_path):
    import pandas as pd

    with Workspace(tmp_path) as ws:
        run = ws.begin_run([CHANNEL.recording, OTHER.recording])
        ws.put("k1", CHANNEL, {})
        ws.put("k2", OTHER, {})
        ws.finish_run(run)
    export.write_table(pd.DataFrame(QUOTES), tmp_path / "quotes.csv")
    return tmp_path


def test_the_picture_is_a_png(results, tmp_path):
    path = plot_timeline(results, tmp_path / "t.png")
    assert path.read_bytes().startswith(PNG)


def test_nothing_to_draw_and_a_range_of_the_wrong_kind_are_refused(results, tmp_path):
    with pytest.raises(PlotError, match="no recording 'nope.wav'"):
        plot_timeline(results, tmp_path / "t.png", TimelineOptions(recording="nope.wav"))
    with pytest.raises(PlotError, match="give --from/--to in seconds"):
        plot_timeline(results, tmp_path / "t.png", TimelineOptions(start=datetime(2024, 1, 5, 14)))
    with pytest.raises(PlotError, match="no transmissions"):
        plot_timeline(results, tmp_path / "t.png", TimelineOptions(start=500.0))


def test_the_command_writes_the_picture(results, tmp_path):
    out = tmp_path / "pic.png"
    result = CliRunner().invoke(cli_module.cli, ["plot", "timeline", "-o", str(out), "--out", str(results),
                                                 "--recording", "channel.wav", "--to", "0:30"])
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {out}\n" and out.read_bytes().startswith(PNG)


def test_a_calls_metadata_names_its_talkgroup_lane_and_places_it_in_time():
    from datetime import timezone

    from pipeline.records import CallInfo

    call = recording("calls/north.wav", [(1.0, 2.0, "Unit 1")], 3.0)
    call.call = CallInfo("calls/north.wav", "trunk-recorder", talkgroup="9131",
                         talkgroup_tag="Zone 8 Dispatch",
                         started_at=datetime(2025, 10, 5, 2, 40, 52, tzinfo=timezone.utc))
    origins = axis_origins([call])
    [bar] = timeline_bars([call], origins, TimelineOptions(lanes=Lanes.TALKGROUP))
    assert bar.lane == "Zone 8 Dispatch"
    local = datetime(2025, 10, 5, 2, 40, 53, tzinfo=timezone.utc).astimezone().replace(tzinfo=None)
    assert bar.start == local
