"""Searching every transcript of a workspace: normalised as quotes are located, filtered by
speaker and time, kept up to date as transcripts are stored, with a command to replay."""

import sqlite3
from datetime import datetime

import pytest
from click.testing import CliRunner

from pipeline import cli as cli_module
from pipeline.records import Segment, Transcript, Word
from pipeline.search import SearchError, SearchOptions, parse_time, search
from pipeline.workspace import FILENAME, Workspace


def stored(recording, lines, sha="abc"):
    """A transcript of ``(start, end, speaker, text)`` lines, its words spread evenly."""
    segments = []
    for n, (start, end, speaker, text) in enumerate(lines):
        said = text.split()
        step = (end - start) / len(said)
        words = [Word(start + i * step, start + (i + 1) * step, " " + w, 0.9) for i, w in enumerate(said)]
        segments.append(Segment(n, start, end, " " + text, words=words, speaker=speaker))
    return Transcript(recording=recording, sha256=sha, duration=600.0, model="tiny.en",
                      engine="faster-whisper", segments=segments)


@pytest.fixture
def workspace_dir(tmp_path):
    with Workspace(tmp_path) as ws:
        ws.put("k1", stored("calls/north.wav", [
            (2.0, 4.0, "Dispatcher", "Unit eight thirty-three, shots fired at Kedzie"),
            (30.0, 32.0, "Unit 1", "Ten four, uh, en route"),
            (300.0, 303.0, "Dispatcher", "Shots fired, all units"),
        ]), {})
        ws.put("k2", stored("calls/9131-1700000000_851.0125.wav", [
            (10.0, 12.0, "Unit 2", "10-4 dispatch"),
        ], sha="def"), {})
    return tmp_path


def where(hits):
    return [(h.segment.recording.rsplit("/", 1)[-1], h.segment.start) for h in hits]


@pytest.mark.parametrize("query, expected", [
    ("shots fired", [("north.wav", 2.0), ("north.wav", 300.0)]),
    ("10-4", [("9131-1700000000_851.0125.wav", 10.0), ("north.wav", 30.0)]),  # "Ten four" too
    ("ten four en route", [("north.wav", 30.0)]),  # the filler between is left out
    ("unit 833", [("north.wav", 2.0)]),  # a unit number as said
    ("fired shots", []),  # a phrase, in order
])
def test_words_are_found_as_quotes_are_located(workspace_dir, query, expected):
    assert where(search(workspace_dir, query)) == expected


def test_speaker_and_time_narrow_the_hits(workspace_dir):
    assert where(search(workspace_dir, "shots fired", SearchOptions(speaker="dispatch", start=60.0))) \
        == [("north.wav", 300.0)]
    assert where(search(workspace_dir, "shots fired", SearchOptions(end=parse_time("1:00")))) \
        == [("north.wav", 2.0)]
    assert search(workspace_dir, "shots fired", SearchOptions(speaker="Unit 1")) == []


def test_wall_clock_times_select_recordings_whose_names_give_their_start(workspace_dir):
    window = SearchOptions(start=datetime.fromisoformat("2023-11-14T22:13:00+00:00"),
                           end=datetime.fromisoformat("2023-11-14T22:14:00+00:00"))
    hits = search(workspace_dir, "10-4", window)
    assert where(hits) == [("9131-1700000000_851.0125.wav", 10.0)]
    assert hits[0].wall_clock.isoformat() == "2023-11-14T22:13:30+00:00"


def test_each_hit_carries_a_replay_command(workspace_dir):
    [hit] = search(workspace_dir, "en route")
    assert hit.replay == "ffplay -nodisp -autoexit -ss 29.0 -t 4.0 calls/north.wav"


def test_a_transcript_stored_again_is_indexed_once(workspace_dir):
    with Workspace(workspace_dir) as ws:
        ws.put("k1", stored("calls/north.wav", [(1.0, 2.0, "", "all clear")]), {})
    assert search(workspace_dir, "shots fired") == []
    assert where(search(workspace_dir, "all clear")) == [("north.wav", 1.0)]


def test_a_workspace_from_before_the_index_is_indexed_when_opened(workspace_dir):
    db = sqlite3.connect(workspace_dir / FILENAME)
    db.execute("DROP TABLE segment_search")
    db.commit()
    db.close()
    assert where(search(workspace_dir, "en route")) == [("north.wav", 30.0)]


def test_a_query_without_words_or_a_time_that_cannot_be_read_is_refused(workspace_dir):
    with pytest.raises(SearchError, match="nothing to search for"):
        search(workspace_dir, " ... ")
    with pytest.raises(SearchError, match="cannot read the time 'noon'"):
        parse_time("noon")


def test_the_command_prints_recording_time_speaker_and_replay(workspace_dir):
    result = CliRunner().invoke(cli_module.cli, ["search", "en route", "--out", str(workspace_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "north.wav 0:30.0-0:32.0 Unit 1: Ten four, uh, en route",
        "  ffplay -nodisp -autoexit -ss 29.0 -t 4.0 calls/north.wav"]
    nothing = CliRunner().invoke(cli_module.cli, ["search", "code nine", "--out", str(workspace_dir)])
    assert nothing.exit_code == 1 and "holds 'code nine'" in nothing.output


def test_a_long_place_puts_the_text_on_a_line_of_its_own():
    from pipeline.search import Hit, format_hits
    from pipeline.workspace import SegmentHit

    segment = SegmentHit("calls/3105-1759632041_851012500.0-call_4.wav", 0, 11.8, 14.2, "Unit 8120",
                         "It's well, copy the description, northbound on Kedzie")
    lines = format_hits([Hit(segment, datetime(2025, 10, 5, 2, 40, 52), "ffplay x")], width=80).splitlines()
    assert lines == ["3105-1759632041_851012500.0-call_4.wav 0:11.8-0:14.2 (2025-10-05 02:40:52)",
                     "  Unit 8120: It's well, copy the description, northbound on Kedzie", "  ffplay x"]
