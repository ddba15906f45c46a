from pipeline.records import Failure, Segment, Transcript, Transmission, Word
from pipeline.workspace import (
    Workspace,
    cache_key,
    file_sha256,
    transcript_from_json,
    transcript_key,
    transcript_to_json,
)


def make_transcript(recording="calls/a.wav", sha="abc"):
    words = [Word(0.5, 0.8, "ten", 0.9), Word(0.8, 1.1, "four", 0.8)]
    seg = Segment(0, 0.5, 1.1, "ten four", words, -0.3, 0.02, 1.1, 0, "Dispatcher")
    return Transcript(recording, sha, 5.0, "tiny.en", "faster-whisper", [seg],
                      [Transmission(0.4, 1.2)])


def test_json_round_trip_keeps_every_field():
    t = make_transcript()
    assert transcript_from_json(transcript_to_json(t)) == t


def test_key_depends_on_audio_model_engine_and_options():
    base = transcript_key("abc", "tiny.en", "faster-whisper", {"beam": 5})
    assert base == transcript_key("abc", "tiny.en", "faster-whisper", {"beam": 5})
    others = [
        transcript_key("abd", "tiny.en", "faster-whisper", {"beam": 5}),
        transcript_key("abc", "base", "faster-whisper", {"beam": 5}),
        transcript_key("abc", "tiny.en", "openai-whisper", {"beam": 5}),
        transcript_key("abc", "tiny.en", "faster-whisper", {"beam": 1}),
    ]
    assert base not in others and len(set(others)) == 4


def test_transcript_keys_stay_the_same_so_workspaces_keep_their_transcripts():
    assert transcript_key("abc", "tiny.en", "faster-whisper", {"beam": 5}) == (
        "ae83a67a91541709952108ffc61242a57d5148a40dd34d088da92b2f230b03e6")
    assert transcript_key("abc", "tiny.en", "faster-whisper", {"beam": 5}) == cache_key(
        "abc", "tiny.en", "faster-whisper", {"beam": 5})


def test_file_sha256_is_the_models_one(tmp_path):
    import hashlib

    from pipeline import models

    path = tmp_path / "a.bin"
    path.write_bytes(b"dispatch")
    assert file_sha256 is models.file_sha256
    assert file_sha256(path) == hashlib.sha256(b"dispatch").hexdigest()


def test_put_get_and_list(tmp_path):
    with Workspace(tmp_path) as ws:
        t = make_transcript()
        ws.put("k1", t, {})
        assert ws.get("k1") == t
        assert ws.get("missing") is None
        assert list(ws.transcripts()) == [t]
    with Workspace(tmp_path) as ws:  # survives reopening
        assert ws.get("k1") == t


def test_failure_is_recorded_and_cleared_by_success(tmp_path):
    with Workspace(tmp_path) as ws:
        ws.mark_failed(Failure("calls/a.wav", "corrupt or truncated"))
        assert ws.failures() == [Failure("calls/a.wav", "corrupt or truncated")]
        ws.put("k1", make_transcript(), {})
        assert ws.failures() == []


def test_same_audio_under_two_paths_is_stored_once_listed_twice(tmp_path):
    with Workspace(tmp_path) as ws:
        ws.put("k1", make_transcript("a.wav"), {})
        ws.mark_done("copy/a.wav", "k1")
        assert len(list(ws.transcripts())) == 2
        assert ws.db.execute("SELECT count(*) FROM transcripts").fetchone()[0] == 1


def test_a_run_lists_exactly_its_recordings_in_the_order_given(tmp_path):
    with Workspace(tmp_path) as ws:
        first = ws.begin_run(["b.wav", "a.wav"])
        ws.put("kb", make_transcript("b.wav", "b"), {})
        ws.put("ka", make_transcript("a.wav", "a"), {})
        ws.finish_run(first)
        second = ws.begin_run(["renamed-a.wav"])
        ws.mark_done("renamed-a.wav", "ka")
        assert [t.recording for t in ws.transcripts(first)] == ["b.wav", "a.wav"]
        assert [t.recording for t in ws.transcripts(second)] == ["renamed-a.wav"]
        assert [t.sha256 for t in ws.transcripts(second)] == ["a"]
        assert ws.last_run().id == first  # the second has not finished
        ws.finish_run(second)
        assert ws.last_run().id == second and ws.last_run().recordings == 1
        assert [t.recording for t in ws.transcripts()] == ["renamed-a.wav"]


def test_a_recording_keeps_its_speaker_labels_while_it_keeps_its_transcript(tmp_path):
    with Workspace(tmp_path) as ws:
        ws.put("k1", make_transcript("a.wav"), {})
        labelled = make_transcript("a.wav")
        labelled.segments[0].speaker = "Unit 7"
        ws.update_speakers(labelled)
        ws.mark_done("a.wav", "k1")
        assert [s.speaker for t in ws.transcripts() for s in t.segments] == ["Unit 7"]
        ws.put("k2", make_transcript("a.wav", "changed"), {})
        assert [s.speaker for t in ws.transcripts() for s in t.segments] == ["Dispatcher"]


def test_a_workspace_from_before_runs_opens_and_lists_every_recording(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "workspace.sqlite")
    db.executescript(
        "CREATE TABLE transcripts (key TEXT PRIMARY KEY, sha256 TEXT NOT NULL, model TEXT NOT NULL,"
        " engine TEXT NOT NULL, options TEXT NOT NULL, recording TEXT NOT NULL, data TEXT NOT NULL,"
        " created TEXT NOT NULL DEFAULT (datetime('now')));"
        "CREATE TABLE recordings (recording TEXT PRIMARY KEY, key TEXT, status TEXT NOT NULL,"
        " reason TEXT NOT NULL DEFAULT '', updated TEXT NOT NULL DEFAULT (datetime('now')));")
    t = make_transcript()
    db.execute("INSERT INTO transcripts VALUES ('k1', 'abc', 'tiny.en', 'faster-whisper', '{}',"
               " 'calls/a.wav', ?, datetime('now'))", (transcript_to_json(t),))
    db.execute("INSERT INTO recordings (recording, key, status) VALUES ('calls/a.wav', 'k1', 'done')")
    db.commit()
    db.close()
    with Workspace(tmp_path) as ws:
        assert ws.last_run() is None
        assert list(ws.transcripts()) == [t]


def test_a_workspace_that_cannot_be_written_is_a_one_line_output_error(tmp_path):
    import pytest

    from pipeline.errors import DispatchError
    from pipeline.files import OutputError

    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match=r"cannot write to .*file/out/ .*--out") as err:
        Workspace(tmp_path / "file" / "out")
    assert isinstance(err.value, DispatchError) and "\n" not in str(err.value)
