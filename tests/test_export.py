import csv

import pytest
from test_workspace import make_transcript

from pipeline import export


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1 555", "'+1 555"),
        ("-10-4", "'-10-4"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tdata", "'\tdata"),
        ("ten four", "ten four"),
        ("", ""),
        (-0.25, -0.25),
        (3, 3),
    ],
)
def test_spreadsheet_safe(cell, expected):
    assert export.spreadsheet_safe(cell) == expected


def test_segments_and_words_csv_columns_and_escaping(tmp_path):
    t = make_transcript()
    t.segments[0].text = "=cmd|' /C calc'!A0"
    export.write_table(export.segments_frame([t]), tmp_path / "segments.csv")
    export.write_table(export.words_frame([t]), tmp_path / "words.csv")
    seg_rows = list(csv.DictReader(open(tmp_path / "segments.csv", encoding="utf-8")))
    word_rows = list(csv.DictReader(open(tmp_path / "words.csv", encoding="utf-8")))
    assert list(seg_rows[0])[:8] == ["recording", "segment_id", "start_s", "end_s", "speaker",
                                    "text", "avg_logprob", "no_speech_prob"]
    assert seg_rows[0]["text"] == "'=cmd|' /C calc'!A0"
    assert seg_rows[0]["avg_logprob"] == "-0.3"  # numbers stay numbers
    assert list(word_rows[0]) == export.WORD_COLUMNS
    assert [r["word"] for r in word_rows] == ["ten", "four"]
    assert [r["word_id"] for r in word_rows] == ["0", "1"]
    assert word_rows[0]["speaker"] == "Dispatcher"


def test_a_packed_windows_no_speech_probability_is_blank_and_a_lone_windows_kept(tmp_path):
    t = make_transcript()
    t.segments[0].no_speech_prob = None
    t.segments[0].avg_logprob = -0.1234
    export.write_table(export.segments_frame([t]), tmp_path / "segments.csv")
    rows = list(csv.DictReader(open(tmp_path / "segments.csv", encoding="utf-8")))
    assert rows[0]["no_speech_prob"] == ""
    assert rows[0]["avg_logprob"] == "-0.1234"
    t.segments[0].no_speech_prob = 0.25
    export.write_table(export.segments_frame([t]), tmp_path / "segments.csv")
    rows = list(csv.DictReader(open(tmp_path / "segments.csv", encoding="utf-8")))
    assert rows[0]["no_speech_prob"] == "0.25"


def test_json_keeps_raw_text(tmp_path):
    t = make_transcript()
    t.segments[0].text = "=not a formula in json"
    path = export.write_table(export.segments_frame([t]), tmp_path / "s.json", "json")
    assert "=not a formula in json" in path.read_text()




def _call(recording="call_1.wav"):
    from datetime import datetime, timezone

    from pipeline.records import CallInfo, UnitKey

    return CallInfo(recording, "trunk-recorder",
                    datetime(2025, 10, 5, 2, 40, 14, 250000, tzinfo=timezone.utc), system="metro",
                    talkgroup="3105", talkgroup_tag="PD Zone 8", duration=5.0,
                    units=[UnitKey(0.0, 2.5, "8120", "Beat 812"),
                           UnitKey(2.5, 5.0, "1081", "Zone 8 Dispatcher", emergency=True)])


def test_call_columns_follow_the_old_ones_in_every_table(tmp_path):
    from pipeline.calls import CALL_COLUMNS

    assert export.SEGMENT_COLUMNS[-len(CALL_COLUMNS):] == CALL_COLUMNS
    assert export.WORD_COLUMNS[-len(CALL_COLUMNS):] == CALL_COLUMNS
    assert export.CHECK_COLUMNS[-len(CALL_COLUMNS):] == CALL_COLUMNS
    assert CALL_COLUMNS == ["started_at", "ended_at", "talkgroup", "talkgroup_tag", "system",
                            "unit", "unit_tag", "emergency"]


def test_quotes_table_gets_the_call_of_the_recording_it_was_found_in():
    from pipeline.records import Quote, QuoteCheck, Verdict

    t = make_transcript()
    t.recording, t.call = "call_1.wav", _call()
    found = QuoteCheck(Quote("a:1", "a.txt", "Ten four"), Verdict.VERBATIM, 0.9,
                       recording="call_1.wav", start_s=3.0, end_s=3.8)
    missing = QuoteCheck(Quote("a:2", "a.txt", "Never said"), Verdict.NOT_FOUND, 0.9)
    frame = export.quotes_frame([found, missing], [t])
    row = frame.iloc[0]
    assert (row["started_at"], row["ended_at"], row["talkgroup"], row["unit"], row["unit_tag"],
            row["emergency"]) == ("2025-10-05T02:40:17.250+00:00", "2025-10-05T02:40:18.050+00:00",
                                  "3105", "1081", "Zone 8 Dispatcher", True)
    assert (frame.iloc[1]["talkgroup"], frame.iloc[1]["started_at"]) == ("", "")
    assert export.quotes_frame([found])["talkgroup"].tolist() == [""]  # no transcripts given


def test_calls_table_lists_encrypted_calls_and_notes(tmp_path):
    secret = _call("call_2.wav")
    secret.encrypted, secret.units, secret.notes = True, [], ["a note"]
    frame = export.calls_frame([_call(), secret])
    assert frame.columns.tolist() == export.CALL_TABLE_COLUMNS
    assert frame[["recording", "encrypted", "transcribed", "notes"]].values.tolist() == [
        ["call_1.wav", False, True, ""], ["call_2.wav", True, False, "a note"]]
    assert frame.iloc[0]["units"] == "8120 Beat 812 | 1081 Zone 8 Dispatcher"
    assert frame.iloc[0]["ended_at"] == "2025-10-05T02:40:19.250+00:00"
    export.write_table(frame, tmp_path / "calls.csv")
    with (tmp_path / "calls.csv").open(encoding="utf-8") as f:
        assert next(csv.DictReader(f))["started_at"] == "2025-10-05T02:40:14.250+00:00"
