"""The command line's article intake: web addresses, --encoding, and reading its own tables."""

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
