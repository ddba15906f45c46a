"""Quote confidence: the isotonic table, the shipped one, and verify applying it."""

import numpy as np
import pytest
from test_verify import fake_adjudicate, scored_by_text, transcript

from pipeline import lines, verify
from pipeline.calibration import Bin, Calibration, shipped
from pipeline.records import Quote, Verdict


def test_a_stronger_verdict_is_never_less_right():
    rng = np.random.default_rng(3)
    strengths = rng.uniform(0, 1, 400)
    rows = [(Verdict.MISQUOTE, float(s), bool(rng.uniform() < s)) for s in strengths]
    table = Calibration.fit(rows)
    rates = [table.confidence(Verdict.MISQUOTE, s) for s in np.linspace(strengths.min(), 1, 50)]
    assert rates == sorted(rates)
    assert sum(b.n for b in table.bins) == 400
    assert rates[0] < 0.3 and rates[-1] > 0.8  # it follows the truth it was fitted on


def test_few_verdicts_are_counted_with_one_right_and_one_wrong_added():
    table = Calibration.fit([(Verdict.NOT_FOUND, 0.9, True)] * 3)
    assert table.confidence(Verdict.NOT_FOUND, 0.9) == 0.8
    assert table.confidence(Verdict.NOT_FOUND, 0.5) == 0.8  # below every fitted strength
    assert table.confidence(Verdict.MISQUOTE, 0.9) is None  # no misquote was fitted


def test_verbatim_and_minor_are_one_kind_and_unverifiable_has_none():
    table = Calibration.fit([(Verdict.VERBATIM, 0.99, True), (Verdict.MINOR, 0.99, False)])
    assert table.confidence(Verdict.VERBATIM, 0.99) == table.confidence(Verdict.MINOR, 0.99) == 0.5
    assert table.confidence(Verdict.UNVERIFIABLE, 0.99) is None


def test_the_table_reads_back_as_written(tmp_path):
    table = Calibration((Bin("misquote", 0.0, 3, 6), Bin("misquote", 0.9, 19, 20)))
    table.write(tmp_path / "c.csv", "fitted on\ntwo lines")
    assert (tmp_path / "c.csv").read_text().startswith("# fitted on\n# two lines\nkind,")
    assert Calibration.read(tmp_path / "c.csv") == table


def test_the_shipped_table_covers_every_decisive_verdict_and_rises():
    table = shipped()
    for kind in ("misquote", "not_found", "confirmed"):
        rates = [b.rate for b in table.bins if b.kind == kind]
        assert rates and rates == sorted(rates), kind


def test_verify_gives_each_verdict_its_measured_rate(monkeypatch):
    monkeypatch.setattr(verify, "adjudicate", fake_adjudicate({"we're not sending anybody": "unverifiable"}))
    monkeypatch.setattr(lines, "compare_versions", scored_by_text(None))
    table = Calibration((Bin("confirmed", 0.0, 8, 8), Bin("not_found", 0.0, 2, 4)))
    quotes = [Quote("said", "a.txt", "we're trying to clear out but we're blocked in"),
              Quote("open", "a.txt", "we're not sending anybody"),
              Quote("never", "a.txt", "the department is aware of an incident involving federal agents")]
    samples = np.zeros(16000 * 60, dtype=np.float32)
    checks = verify.verify_quotes(quotes, [transcript()], lambda rec: samples, [object()],
                                  verify.VerifyOptions(calibration=table))
    assert [(c.verdict, c.confidence) for c in checks] == [
        ("verbatim", 0.9), ("unverifiable", None), ("not_found", 0.5)]
    assert all(0 <= c.strength <= 1 for c in checks)


@pytest.mark.parametrize("strength", [-0.1, 1.5])
def test_strength_outside_zero_to_one_is_refused(strength):
    from pipeline.records import QuoteCheck

    with pytest.raises(ValueError, match="strength"):
        QuoteCheck(Quote("q", "a.txt", "x"), Verdict.VERBATIM, strength)
