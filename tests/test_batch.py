"""Batch plumbing with a fake engine: failures recorded, nothing redone, resume after a kill.

Tests marked slow load the real voice encoder (speaker labels across a batch).
"""


import pytest
from conftest import FakeEngine

from pipeline.batch import find_recordings, run_batch
from pipeline.transcribe import TranscribeOptions
from pipeline.workspace import Workspace


def test_find_recordings_recurses_and_keeps_given_files(batch_dir, tmp_path):
    found = find_recordings([batch_dir])
    assert [p.split("calls/")[1] for p in found] == ["a.wav", "corrupt.wav", "night/b.wav", "notes.wav"]
    odd = tmp_path / "call.txt"
    odd.write_text("x")
    assert find_recordings([odd]) == [str(odd)]
    with pytest.raises(FileNotFoundError, match="no such file"):
        find_recordings([tmp_path / "missing"])


def test_bad_files_are_recorded_and_the_batch_goes_on(batch_dir, tmp_path):
    with Workspace(tmp_path / "out") as ws:
        summary = run_batch([batch_dir], TranscribeOptions(), ws, engine=FakeEngine())
    assert [t.recording.split("calls/")[1] for t in summary.transcripts] == ["a.wav", "night/b.wav"]
    failed = {f.recording.split("calls/")[1]: f.reason for f in summary.failures}
    assert set(failed) == {"corrupt.wav", "notes.wav"}
    assert all(reason for reason in failed.values())
    a = summary.transcripts[0]
    assert len(a.transmissions) == 2
    assert {s.transmission_id for s in a.segments} == {0, 1}
    for seg in a.segments:  # every word sits inside its transmission, in absolute time
        tx = a.transmissions[seg.transmission_id]
        assert all(tx.start - 0.01 <= w.start <= w.end <= tx.end + 0.01 for w in seg.words)


def test_rerun_transcribes_nothing(batch_dir, tmp_path):
    engine = FakeEngine()
    with Workspace(tmp_path / "out") as ws:
        run_batch([batch_dir], TranscribeOptions(), ws, engine=engine)
        calls = engine.calls
        summary = run_batch([batch_dir], TranscribeOptions(), ws, engine=engine)
    assert engine.calls == calls
    assert (summary.transcribed, summary.cached) == (0, 2)


def test_changed_options_transcribe_again(batch_dir, tmp_path):
    engine = FakeEngine()
    with Workspace(tmp_path / "out") as ws:
        run_batch([batch_dir], TranscribeOptions(), ws, engine=engine)
        summary = run_batch([batch_dir], TranscribeOptions(max_window_s=20.0), ws, engine=engine)
    assert summary.transcribed == 2


def test_killed_batch_resumes_without_redoing_or_duplicating(batch_dir, tmp_path):
    out = tmp_path / "out"
    with Workspace(out) as ws, pytest.raises(KeyboardInterrupt):
        # a.wav has two transmissions in one packed window: call 1; b.wav is call 2.
        run_batch([batch_dir], TranscribeOptions(), ws, engine=FakeEngine(fail_on_call=2))
    with Workspace(out) as ws:
        assert [t.recording.split("calls/")[1] for t in ws.transcripts()] == ["a.wav"]
        engine = FakeEngine()
        summary = run_batch([batch_dir], TranscribeOptions(), ws, engine=engine)
        assert engine.calls == 1  # only b.wav
        assert (summary.transcribed, summary.cached) == (1, 1)
        assert ws.db.execute("SELECT count(*) FROM transcripts").fetchone()[0] == 2


@pytest.mark.slow
def test_transcribe_and_speakers_decode_each_recording_once(batch_dir, tmp_path, decoded):
    from pipeline.speakers import SpeakerSettings, label_speakers

    settings = SpeakerSettings()
    with Workspace(tmp_path / "out") as ws:
        summary = run_batch([batch_dir], TranscribeOptions(), ws, engine=FakeEngine(),
                            speakers=settings.options)
        labels = label_speakers(summary.transcripts, ws, settings)
    good = [t.recording for t in summary.transcripts]
    assert sorted(labels.turns) == sorted(good)
    assert all(decoded.count(rec) == 1 for rec in good), decoded


@pytest.mark.slow
def test_transcribe_paths_names_a_renamed_dispatcher_as_dispatcher(batch_dir, tmp_path,
                                                                   monkeypatch):
    import pipeline.engines
    from pipeline.batch import transcribe_paths
    from pipeline.records import Role
    from pipeline.speakers import SpeakerSettings, attribution_matches, speaker_named

    names = tmp_path / "names.txt"
    names.write_text("Dispatcher = Sgt Ruiz\n")
    out = tmp_path / "out"
    monkeypatch.setattr(pipeline.engines, "load_engine", lambda *a, **k: FakeEngine())
    summary = transcribe_paths([batch_dir / "a.wav", batch_dir / "night" / "b.wav"],
                               TranscribeOptions(), out,
                               speakers=SpeakerSettings.from_names_file(names), progress=False)
    ruiz = speaker_named("Sgt Ruiz", summary.speakers)
    assert ruiz is not None and ruiz.role is Role.DISPATCHER
    assert attribution_matches("the dispatcher said", ruiz) is True
    assert attribution_matches("one officer on scene said", ruiz) is False
    assert summary.tables == [out / "segments.csv", out / "words.csv"]
    assert all(p.exists() for p in summary.tables)


def test_samples_decoded_to_transcribe_are_reused_from_the_cache(batch_dir, tmp_path, decoded):
    from pipeline.batch import AudioCache

    cache = AudioCache()
    with Workspace(tmp_path / "out") as ws:
        summary = run_batch([batch_dir], TranscribeOptions(), ws, engine=FakeEngine(),
                            samples_for=cache)
    good = [t.recording for t in summary.transcripts]
    for rec in good:  # what verify does next: cut quote windows from the samples
        assert len(cache(rec)) > 0
    assert sorted(decoded) == sorted(find_recordings([batch_dir]))  # each once, bad ones too
    assert cache.decoded == 2


def test_audio_cache_keeps_the_most_recently_used(batch_dir, monkeypatch):
    from pipeline import audio
    from pipeline.batch import AudioCache

    monkeypatch.setattr(audio, "load_audio", lambda path: path)
    cache = AudioCache(size=2)
    for rec in ["a", "b", "a", "c", "a", "b"]:
        assert cache(rec) == rec
    assert cache.decoded == 4  # a, b, c, then b again (evicted by c)


def test_a_recording_has_one_name_however_it_is_spelled(tmp_path, monkeypatch):
    from pipeline.batch import recording_name

    monkeypatch.chdir(tmp_path)
    (tmp_path / "calls").mkdir()
    spellings = ["calls/a.wav", "./calls/a.wav", "calls/../calls/a.wav", str(tmp_path / "calls/a.wav")]
    assert {recording_name(s) for s in spellings} == {"calls/a.wav"}
    assert recording_name("/elsewhere/b.wav") == "/elsewhere/b.wav"
    monkeypatch.chdir(tmp_path / "calls")
    assert recording_name(tmp_path / "x.wav") == str(tmp_path / "x.wav")


def test_find_recordings_names_each_file_once(batch_dir, monkeypatch):
    monkeypatch.chdir(batch_dir.parent)
    found = find_recordings(["calls", "./calls/a.wav", batch_dir / "a.wav", "calls/night/"])
    assert found == ["calls/a.wav", "calls/corrupt.wav", "calls/night/b.wav", "calls/notes.wav"]


def test_files_with_the_same_bytes_are_transcribed_once_and_listed_under_each_name(batch_dir,
                                                                                   tmp_path):
    import shutil

    shutil.copy(batch_dir / "a.wav", batch_dir / "a-copy.wav")
    engine = FakeEngine()
    with Workspace(tmp_path / "out") as ws:
        summary = run_batch([batch_dir / "a.wav", batch_dir / "a-copy.wav"], TranscribeOptions(), ws,
                            engine=engine)
    assert engine.calls == 1
    assert [t.recording for t in summary.transcripts] == [str(batch_dir / "a.wav"),
                                                          str(batch_dir / "a-copy.wav")]
    assert (summary.transcribed, summary.cached) == (1, 1)


def test_a_file_that_cannot_be_read_fails_alone(batch_dir, tmp_path, monkeypatch):
    import pipeline.batch

    real = pipeline.batch.file_sha256

    def unreadable(path):
        if str(path).endswith("a.wav"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(pipeline.batch, "file_sha256", unreadable)
    with Workspace(tmp_path / "out") as ws:
        summary = run_batch([batch_dir / "a.wav", batch_dir / "night" / "b.wav"], TranscribeOptions(),
                            ws, engine=FakeEngine())
    assert [t.recording for t in summary.transcripts] == [str(batch_dir / "night" / "b.wav")]
    assert [f.reason for f in summary.failures] == ["cannot be read: Permission denied"]
