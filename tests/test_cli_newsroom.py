"""The command line for a newsroom: web addresses, --encoding, reading its own tables back,
and no dependency's noise on a run."""

import subprocess
import sys

from click.testing import CliRunner

from pipeline import cli as cli_module


def test_a_web_address_gets_the_save_the_page_message_not_a_missing_file():
    for args in (["quotes", "https://news.example/story"],
                 ["verify", "--quotes", "https://news.example/story", "calls/"]):
        result = CliRunner().invoke(cli_module.cli, args)
        assert result.exit_code == 1, result.output
        assert "pages are not fetched" in result.output and "save the page" in result.output


def test_encoding_reads_an_article_in_a_legacy_code_page(tmp_path):
    article = tmp_path / "story.txt"
    article.write_bytes('The officer said, "Всё чисто, конец связи."\n'.encode("cp1251"))
    result = CliRunner().invoke(cli_module.cli, ["quotes", str(article), "--encoding", "cp1251"])
    assert result.exit_code == 0, result.output
    assert "Всё чисто, конец связи." in result.output


def test_quotes_reads_back_the_table_it_wrote(tmp_path):
    article = tmp_path / "story.txt"
    article.write_text('The dispatcher said, "Ten-four, all units clear the scene."\n')
    table = tmp_path / "quotes.csv"
    first = CliRunner().invoke(cli_module.cli, ["quotes", str(article), "-o", str(table)])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(cli_module.cli, ["quotes", str(table)])
    assert again.exit_code == 0, again.output
    assert "Ten-four, all units clear the scene." in again.output


def test_no_deprecation_noise_from_the_voice_encoders_dependencies():
    code = "import pipeline.cli, resemblyzer"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pkg_resources" not in run.stderr
