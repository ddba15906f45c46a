"""Recording paths in the tables: relative to the run's root, the root in run.json."""

import pytest

from pipeline.tablepaths import RUN_FILE, TablePaths


@pytest.mark.parametrize("recordings, cwd, root, names", [
    # all under the current folder: the paths as typed from there
    (["calls/a.wav", "calls/night/b.wav"], "/home/me", "/home/me", ["calls/a.wav", "calls/night/b.wav"]),
    # elsewhere: from the deepest folder holding them all
    (["/srv/calls/a.wav", "/srv/calls/night/b.wav"], "/home/me", "/srv/calls", ["a.wav", "night/b.wav"]),
    # one name in two folders stays two paths
    (["/srv/north/a.wav", "/srv/south/a.wav"], "/home/me", "/srv", ["north/a.wav", "south/a.wav"]),
    # one file alone: its folder
    (["/srv/calls/a.wav"], "/home/me", "/srv/calls", ["a.wav"]),
    # some in, some out: their common folder
    (["a.wav", "/srv/b.wav"], "/home/me", "/", ["home/me/a.wav", "srv/b.wav"]),
])
def test_the_root_and_the_paths_from_it(recordings, cwd, root, names):
    paths = TablePaths.for_run(recordings, cwd)
    assert paths.root == root
    assert [paths.table_path(r) for r in recordings] == names
    assert [paths.recording(n) for n in names] == recordings  # and back to the run's own names


def test_the_root_is_written_once_and_read_back(tmp_path):
    assert TablePaths.read(tmp_path) is None  # results from before run.json: names as they are
    TablePaths("/srv/calls", "/home/me").write(tmp_path)
    assert (tmp_path / RUN_FILE).read_text() == '{\n  "root": "/srv/calls"\n}\n'
    read = TablePaths.read(tmp_path, "/home/me")
    assert read == TablePaths("/srv/calls", "/home/me")
    assert read.absolute("night/b.wav").as_posix() == "/srv/calls/night/b.wav"
