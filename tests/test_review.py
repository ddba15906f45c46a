"""The review stage without a browser: results, decisions, the app's routes, report, evidence.

The results folder is generated (tests/review_fixture.py): no model runs here.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import wave
from html import unescape

import pytest
from review_fixture import EVIL, ORDER, QUOTE_COLUMNS, make_results, quote_rows, write_table

from pipeline.records import Verdict
from pipeline.review import ReviewError, export_report, load_results, store, write_evidence
from pipeline.review.app import create_app, open_state
from pipeline.review.evidence import EvidenceError
from pipeline.review.results import wall_clock


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return make_results(tmp_path)


@pytest.fixture
def client(results):
    from starlette.testclient import TestClient

    state = open_state(results, reviewer="ana", token="secret-token")
    with TestClient(create_app(state)) as c:
        c.get("/?token=secret-token")  # sets the cookie
        yield c
    state.decisions.close()


def read_quotes(results) -> dict[str, dict]:
    with open(results / "quotes.csv", newline="", encoding="utf-8") as f:
        return {r["quote_id"]: r for r in csv.DictReader(f)}


def decide(client, quote_id, verdict, seen=None, **kw):
    return client.post("/decide", json={"quote_id": quote_id, "verdict": verdict, "seen": seen, **kw},
                       headers={"X-Review-Token": "secret-token"})


# --------------------------------------------------------------------------- results


def test_cards_come_in_review_order(results):
    assert [c.quote_id for c in load_results(results).cards] == ORDER


def test_a_folder_without_a_verify_run_says_what_to_do(tmp_path):
    with pytest.raises(ReviewError, match="holds no verify run.*dispatch verify"):
        load_results(tmp_path)


def test_a_moved_recording_is_named_not_raised(results, tmp_path):
    (tmp_path / "calls" / "channel-1.wav").rename(tmp_path / "elsewhere.wav")
    rec = load_results(results).recordings["calls/channel-1.wav"]
    assert rec.path is None and "not where verify read it" in rec.problem


@pytest.mark.parametrize("name, expected", [
    ("9131-1700000000_851.0125.wav", "2023-11-14T22:13:20+00:00"),
    ("scanner-20240105_142000.mp3", "2024-01-05T14:20:00"),
    ("dispatch-channel.mp3", None),
])
def test_wall_clock_from_file_names(name, expected):
    found = wall_clock(name)
    assert (found.isoformat() if found else None) == expected


# --------------------------------------------------------------------------- decisions


def test_fingerprint_ignores_case_spacing_and_typography_but_not_the_span():
    a = store.fingerprint("We\u2019re  blocked in", "a.txt", "abc", 1.0, 2.0)
    assert a == store.fingerprint("we're blocked in", "a.txt", "abc", 1.0, 2.0)
    assert a != store.fingerprint("we're blocked in", "a.txt", "abc", 1.0, 2.5)
    assert a != store.fingerprint("we're blocked in", "b.txt", "abc", 1.0, 2.0)
    assert a != store.fingerprint("we're blocked in", "a.txt", "abd", 1.0, 2.0)


def test_a_save_over_an_unseen_decision_is_refused(tmp_path):
    with store.DecisionStore(tmp_path / "workspace.sqlite") as s:
        basis = store.fingerprint_basis("x y z", "a", "h", 1.0, 2.0)
        first = s.save("q", basis, Verdict.MISQUOTE, reviewer="ana")
        with pytest.raises(store.Conflict) as e:
            s.save("q", basis, Verdict.VERBATIM, reviewer="ben", seen=None)
        assert e.value.current == first
        second = s.save("q", basis, Verdict.VERBATIM, reviewer="ben", seen=first.id)
        assert [d.verdict for d in s.history("q")] == [Verdict.MISQUOTE, Verdict.VERBATIM]
        assert s.all_latest()[0]["q"] == second


def test_decisions_survive_a_rerun_and_changed_spans_go_stale(results):
    import pandas as pd

    with store.DecisionStore(results / "workspace.sqlite") as s:
        hashes = store.recording_hashes(results / "workspace.sqlite")
        for row, verdict in zip(quote_rows()[:3], (Verdict.VERBATIM, Verdict.MISQUOTE, Verdict.MINOR)):
            s.save(row["quote_id"], store.row_basis(row, hashes), verdict, reviewer="ana", note="=1+1")
    rerun = pd.read_csv(results / "quotes.csv")
    rerun.loc[rerun.quote_id == "t:2", "end_s"] = 12.4          # its span moved
    rerun.loc[rerun.quote_id == "t:3", "quote_id"] = "t:3b"      # renumbered, same quote
    out = store.apply_decisions(rerun, results / "workspace.sqlite").set_index("quote_id")
    assert out.loc["t:1", ["review_verdict", "final_verdict", "verdict_source"]].tolist() == [
        "verbatim", "verbatim", "reviewer"]
    assert out.loc["t:2", ["review_verdict", "final_verdict", "verdict_source"]].tolist() == [
        "stale", "unverifiable", "audio"]
    assert "decided misquote on an earlier version" in out.loc["t:2", "review_note"]
    assert out.loc["t:3b", "final_verdict"] == "minor"
    assert out.loc["t:4", ["review_verdict", "final_verdict", "verdict_source"]].tolist() == [
        "", "verbatim", "audio"]


def test_quotes_csv_is_rewritten_with_review_columns_and_safe_cells(results):
    rows = list(csv.DictReader(open(results / "quotes.csv", encoding="utf-8")))
    with store.DecisionStore(results / "workspace.sqlite") as s:
        s.save("t:4", store.row_basis(rows[3], store.recording_hashes(results / "workspace.sqlite")),
               Verdict.MINOR, reviewer="ana", note="=HYPERLINK(1)")
    store.write_quotes_csv(results / "quotes.csv", rows, QUOTE_COLUMNS, results / "workspace.sqlite")
    got = read_quotes(results)
    assert list(next(iter(got.values())))[-6:] == store.REVIEW_COLUMNS
    assert got["t:4"]["review_note"] == "'=HYPERLINK(1)"
    assert got["t:4"]["quote_text"] == rows[3]["quote_text"] and len(got) == len(rows)
    assert not [p for p in results.iterdir() if p.name.startswith(".quotes-")]


# --------------------------------------------------------------------------- the app


def test_requests_without_the_token_are_refused(results):
    from starlette.testclient import TestClient

    state = open_state(results, token="secret-token")
    with TestClient(create_app(state)) as c:
        assert c.get("/").status_code == 403
        assert c.get("/clip?q=t:1").status_code == 403
        assert c.get("/?token=wrong").status_code == 403
        page = c.get("/?token=secret-token")  # sets the cookie, then drops the token from the URL
        assert page.status_code == 200 and page.url.query == b""
        assert c.post("/decide", json={"quote_id": "t:1", "verdict": "minor"}).status_code == 403
        assert decide(c, "t:1", "minor").status_code == 200
    state.decisions.close()


def test_a_decision_is_saved_and_written_to_quotes_csv(client, results):
    r = decide(client, "t:2", "misquote", heard="ten four eight three", note="listen twice")
    assert r.status_code == 200
    row = read_quotes(results)["t:2"]
    assert (row["review_verdict"], row["reviewer"], row["final_verdict"], row["verdict_source"]) == (
        "misquote", "ana", "misquote", "reviewer")
    assert row["review_note"] == "heard: ten four eight three; listen twice"
    assert "Decided <b>misquote</b> by ana" in client.get("/").text


def test_a_second_tab_sees_the_conflict_and_can_then_replace(client):
    first = decide(client, "t:1", "verbatim").json()["decision"]
    stale_tab = decide(client, "t:1", "misquote", seen=None)
    assert stale_tab.status_code == 409 and stale_tab.json()["current"]["verdict"] == "verbatim"
    assert decide(client, "t:1", "misquote", seen=first["id"]).status_code == 200


@pytest.mark.parametrize("path", [
    "/static/../../etc/passwd", "/static/..%2f..%2fetc%2fpasswd", "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/static/....//....//etc/passwd", "/static/%252e%252e%252fetc%252fpasswd", "/static/review.js%00.css",
    "/clip?q=../../etc/passwd", "/clip?q=%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/clip?q=/etc/passwd",
    "/clip?q=t:elsewhere", "/peaks?q=t:elsewhere", "/clip?q=t:6", "/calls/channel-1.wav",
    "/../calls/channel-1.wav", "/static/link", "/clip?q=link.wav",
])
def test_paths_in_requests_never_reach_the_file_system(client, results, path):
    (results / "link.wav").symlink_to("/etc/passwd")
    r = client.get(path)
    assert r.status_code in (404, 400), path
    assert b"root:" not in r.content


def test_clips_are_the_span_with_context_and_honour_ranges(client):
    r = client.get("/clip?q=t:2")
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    import io

    with wave.open(io.BytesIO(r.content)) as w:
        assert w.getframerate() == 16000
        assert w.getnframes() == round((11.8 + 1.5) * 16000) - round((8.0 - 1.5) * 16000)
    part = client.get("/clip?q=t:2", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    peaks = client.get("/peaks?q=t:2").json()
    assert peaks["start"] == 6.5 and max(peaks["peaks"]) > 0.3


def test_article_html_is_escaped_everywhere(client):
    page = client.get("/").text
    assert EVIL not in page and "window.pwned" in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    assert "default-src 'none'; script-src 'self'" in client.get("/").headers["content-security-policy"]


def test_a_missing_recording_gives_a_clear_card_not_a_stack_trace(results, tmp_path):
    from starlette.testclient import TestClient

    os.remove(tmp_path / "calls" / "channel-1.wav")
    state = open_state(results, token="secret-token")
    with TestClient(create_app(state)) as c:
        page = c.get("/?token=secret-token")
        assert page.status_code == 200 and "is not where verify read it" in page.text
        clip = c.get("/clip?q=t:1")
        assert clip.status_code == 404 and "not where verify read it" in clip.text
    state.decisions.close()


def test_a_changed_recording_is_refused(results, tmp_path):
    from starlette.testclient import TestClient

    with open(tmp_path / "calls" / "channel-1.wav", "ab") as f:
        f.write(b"\0\0")
    state = open_state(results, token="secret-token")
    with TestClient(create_app(state)) as c:
        c.get("/?token=secret-token")
        clip = c.get("/clip?q=t:1")
        assert clip.status_code == 404 and "SHA-256 differs" in clip.text
    state.decisions.close()


def test_filters_and_search(client):
    def ids(query):
        return re.findall(r'data-quote-id="([^"]+)"', client.get("/?" + query).text)

    assert ids("verdict=misquote") == ["t:3", "t:elsewhere"]
    assert ids("q=boxed") == ["t:3"]
    assert ids("speaker=Dispatcher&verdict=verbatim") == ["t:4"]
    assert ids("") == ORDER


# --------------------------------------------------------------------------- report and evidence


def test_the_report_is_one_file_with_embedded_clips_and_no_request(results, tmp_path):
    out = export_report(results, tmp_path / "report.html")
    html = out.read_text()
    assert html.count('src="data:audio/wav;base64,') == 6  # located quotes with audio in the workspace
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "default-src 'none'; script-src 'sha256-" in unescape(html) and EVIL not in html
    assert [m for m in re.findall(r'data-quote-id="([^"]+)"', html)] == ORDER


def test_evidence_packets_can_be_checked_by_hash(results, tmp_path):
    folders = write_evidence(results, ["t:3", "t:6"], tmp_path / "evidence")
    manifest = json.loads((folders[0] / "manifest.json").read_text())
    wav = (folders[0] / "clip.wav").read_bytes()
    assert manifest["clip"]["sha256"] == hashlib.sha256(wav).hexdigest()
    assert manifest["recording"]["sha256"] == hashlib.sha256(
        (tmp_path / "calls" / "channel-1.wav").read_bytes()).hexdigest()
    assert manifest["verdict"]["verdict"] == "misquote" and manifest["final_verdict"] == "misquote"
    assert manifest["transcription"]["weights"]["model.bin"]
    assert manifest["judging"]["judge_model"] == "base"
    words = list(csv.DictReader(open(folders[0] / "words.csv")))
    assert [w["status"] for w in words][2] == "changed"
    assert json.loads((folders[1] / "manifest.json").read_text())["clip"]["file"] is None
    with pytest.raises(EvidenceError, match="t:nope"):
        write_evidence(results, ["t:nope"], tmp_path / "evidence")
    assert len(write_evidence(results, [], tmp_path / "all", all_quotes=True)) == len(ORDER)


def test_a_quotes_table_without_review_columns_gets_them_on_open(results):
    with store.DecisionStore(results / "workspace.sqlite") as s:
        s.save("t:1", store.row_basis(quote_rows()[0], store.recording_hashes(results / "workspace.sqlite")),
               Verdict.VERBATIM, reviewer="ana")
    write_table(results / "quotes.csv", QUOTE_COLUMNS, quote_rows())  # as a re-run of verify writes it
    open_state(results).decisions.close()
    assert read_quotes(results)["t:1"]["final_verdict"] == "verbatim"


# --------------------------------------------------------------------------- command line


def test_cli_exports_the_report_and_evidence(results, tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    runner = CliRunner()
    r = runner.invoke(cli, ["review", str(results), "--export", str(tmp_path / "r.html")])
    assert r.exit_code == 0 and r.output.startswith(f"wrote {tmp_path / 'r.html'} (")
    out = str(tmp_path / "ev")
    r = runner.invoke(cli, ["evidence", "t:3", "t:2", "--results", str(results), "--out", out])
    assert r.exit_code == 0 and r.output == f"wrote 2 evidence packet(s) in {tmp_path / 'ev'}/\n"
    assert (tmp_path / "ev" / "t_3" / "clip.wav").is_file()


def test_cli_says_what_to_do_without_a_verify_run(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    r = CliRunner().invoke(cli, ["review", str(tmp_path / "empty"), "--no-browser"])
    assert r.exit_code == 1 and "holds no verify run" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["evidence", "--results", str(tmp_path)])
    assert r.exit_code == 2 and "--all" in r.output


def test_tables_name_recordings_from_the_run_root_and_the_review_finds_them(tmp_path, monkeypatch):
    """verify on two files of one name in two folders, reviewed from another folder: the
    tables hold paths from the root in run.json, and each card plays its own file."""
    from click.testing import CliRunner
    from conftest import FakeEngine, write_bursts
    from test_cli import FakeEncoder
    from test_verify import fake_adjudicate

    import pipeline.engines
    from pipeline import cli, verify
    from pipeline.speakers import labelling

    monkeypatch.setattr(pipeline.engines, "load_engine", lambda *a, **k: FakeEngine())
    monkeypatch.setattr(labelling, "process_encoder", FakeEncoder)
    monkeypatch.setattr(verify, "load_scorers", lambda options: [object()])
    monkeypatch.setattr(verify, "adjudicate", fake_adjudicate("verbatim"))
    calls = tmp_path / "calls"
    (calls / "north").mkdir(parents=True)
    (calls / "south").mkdir()
    write_bursts(calls / "north" / "a.wav")
    write_bursts(calls / "south" / "a.wav", bursts=((1.0, 2.0),), duration=3.0)
    quotes = tmp_path / "q.csv"
    quotes.write_text("quote_id,source,text\nmine-1,memo,ten four dispatch\n")
    out = tmp_path / "results"
    result = CliRunner().invoke(cli.cli, ["-q", "verify", "--quotes", str(quotes), str(calls),
                                          "--out", str(out), "--no-speakers"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text()) == {"root": str(calls)}
    with open(out / "segments.csv", encoding="utf-8") as f:
        assert {r["recording"] for r in csv.DictReader(f)} == {"north/a.wav", "south/a.wav"}
    [row] = read_quotes(out).values()
    assert row["recording"] in ("north/a.wav", "south/a.wav")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    loaded = load_results(out)
    found = {name: rec.path for name, rec in loaded.recordings.items()}
    assert sorted(found.values()) == [calls / "north" / "a.wav", calls / "south" / "a.wav"]
    [card] = loaded.cards
    assert found[card.recording] == calls / row["recording"]
    assert store.recording_hashes(out / "workspace.sqlite")[row["recording"]] == \
        hashlib.sha256((calls / row["recording"]).read_bytes()).hexdigest()

    moved = tmp_path / "archive" / "calls"  # the recordings moved: run.json is told where
    moved.parent.mkdir()
    calls.rename(moved)
    (out / "run.json").write_text(json.dumps({"root": str(moved)}))
    loaded = load_results(out)
    [card] = loaded.cards
    assert loaded.recordings[card.recording].path == moved / row["recording"]
    exported = CliRunner().invoke(cli.cli, ["export", "segments", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    with open(out / "segments.csv", encoding="utf-8") as f:  # names stay those of the run
        assert {r["recording"] for r in csv.DictReader(f)} == {"north/a.wav", "south/a.wav"}

    from pipeline import plot

    drawn = {}
    monkeypatch.setattr(plot, "draw_timeline", lambda bars, marks, *a, **k: drawn.update(marks=marks))
    plot.plot_timeline(out, tmp_path / "t.png")
    assert [m.quote_id for m in drawn["marks"]] == ["mine-1"]  # the quote found on its recording
