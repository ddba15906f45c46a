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
