"""The terminal summary: one line per quote, counts, and what to replay first."""

from pipeline.records import Quote, QuoteCheck
from pipeline.report import verdict_table


def check(qid, verdict, rank=None, start=None, diff=""):
    return QuoteCheck(quote=Quote(qid, "a.txt", f"quote {qid}"), verdict=verdict, strength=0.5,
                      recording="audio/chan.mp3" if start is not None else "",
                      start_s=start, end_s=None if start is None else start + 2,
                      listen_start_s=None if start is None else start - 0.5,
                      listen_end_s=None if start is None else start + 2.5,
                      differences=[diff] if diff else [], review_rank=rank)


def test_unverifiable_quotes_are_listed_to_replay_most_doubtful_first():
    checks = [check("calm", "unverifiable", rank=2, start=10.0, diff='audio says "a", quote says "b"'),
              check("fine", "verbatim", start=30.0),
              check("worst", "unverifiable", rank=1, start=50.0, diff='audio says "x", quote says "y"')]
    table = verdict_table(checks, width=200)
    review = table.split("listen first (2 of 2 unverifiable, most doubtful first):")[1].splitlines()[1:]
    assert review[0].split() == ["1.", "chan.mp3", "49.5-52.5s", "worst", "audio", "says", '"x",',
                                 "quote", "says", '"y"']
    assert review[1].split()[:4] == ["2.", "chan.mp3", "9.5-12.5s", "calm"]
    assert "1 verbatim, 2 unverifiable" in table


def test_review_list_is_cut_to_the_first_n_and_absent_when_nothing_is_doubtful():
    checks = [check(f"q{i}", "unverifiable", rank=i + 1, start=float(i)) for i in range(5)]
    table = verdict_table(checks, width=200, review=2)
    assert "listen first (2 of 5" in table and "  3. q2" not in table
    assert "listen first" not in verdict_table([check("fine", "verbatim", start=1.0)], width=200)


def test_places_are_never_cut_short():
    long = check("q", "unverifiable", rank=1, start=1234.5)
    long.recording = "recordings/2026-11-20/dispatch-channel-north.mp3"
    table = verdict_table([long], width=100)
    assert table.count("dispatch-channel-north.mp3 1234.5-1236.5s") == 1  # the table's place
    assert "dispatch-channel-north.mp3 1234.0-1237.0s" in table  # the span to replay


def test_long_quote_ids_keep_their_number():
    table = verdict_table([check("night-the-police-walked-away:12", "verbatim", start=1.0)], width=120)
    assert "night-the-polic…ed-away:12 " in table


def test_legend_says_what_each_verdict_shown_and_the_confidence_mean():
    from pipeline.records import Verdict

    table = verdict_table([check("a", "misquote", start=1.0), check("b", "not_found")], width=120)
    legend = table.split("1 misquote, 1 not_found")[1]
    assert f"misquote     {Verdict.MISQUOTE.meaning}" in legend
    assert f"not_found    {Verdict.NOT_FOUND.meaning}" in legend
    assert "verbatim" not in legend.split("conf:")[0]  # only the verdicts shown
    said = " ".join(legend.split())
    assert "conf: how often a verdict of this kind and strength was right" in said
    assert "none for unverifiable" in said


def test_conf_shows_the_calibrated_confidence_and_none_for_unverifiable():
    sure, open_ = check("a", "misquote", start=1.0), check("b", "unverifiable", start=5.0)
    sure.confidence = 0.83
    table = verdict_table([sure, open_], width=120).splitlines()
    rows = {line.split()[0]: line.split()[1:3] for line in table if line[:2] in ("a ", "b ")}
    assert rows == {"a": ["misquote", "0.83"], "b": ["unverifiable", "-"]}


def test_no_legend_when_asked_for_none():
    assert "conf:" not in verdict_table([check("a", "verbatim", start=1.0)], width=120, legend=False)


def test_every_line_fits_an_80_column_terminal():
    long = check("night-the-police-walked-away:12", "unverifiable", rank=1, start=1234.5,
                 diff='audio says "for eight twelve copy the description", quote says "per"')
    long.recording = "calls/3105-1759632076_851012500.0-call_6.wav"  # trunk-recorder's names
    long.speaker = "Dispatcher"
    checks = [long, check("fine", "verbatim", start=3.0), check("gone", "not_found")]
    table = verdict_table(checks, width=80)
    assert max(len(line) for line in table.splitlines()) <= 80
    assert "3105-1759632076_851012500.0-call_6.wav 1234.5-1236.5s" in table  # places stay whole
    assert "3105-1759632076_851012500.0-call_6.wav 1234.0-1237.0s" in table
    assert "night-the-polic…ed-away:12: audio says" in table
