"""Stage names and the seconds-of-audio reports a bar listens to."""

from pipeline import progress


def test_stage_names_a_stage_on_stderr_unless_progress_is_off(capsys):
    progress.stage("labelling speakers")
    progress.stage("verifying", enabled=False)
    assert capsys.readouterr() == ("", "labelling speakers ...\n")


def test_reports_reach_a_listener_only_within_its_block():
    heard = []
    progress.reached(1.0, 10.0)  # nobody listening (a worker process): nothing happens
    with progress.listening(lambda seconds, total: heard.append((seconds, total))):
        progress.reached(3.0, 10.0)
    progress.reached(5.0, 10.0)
    assert heard == [(3.0, 10.0)]
