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


def test_json_keeps_raw_text(tmp_path):
    t = make_transcript()
    t.segments[0].text = "=not a formula in json"
    path = export.write_table(export.segments_frame([t]), tmp_path / "s.json", "json")
    assert "=not a formula in json" in path.read_text()


