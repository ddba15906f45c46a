"""Regenerate the README's picture of a review card (docs/review-card.png).

Opens ``dispatch review`` on a results folder (default ``results/``, as ``make demo``
writes it) in headless Chromium and saves one card as PNG.

Usage:
    .venv/bin/python scripts/review_screenshot.py [--results results/] [--quote QUOTE_ID]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from pipeline.review.app import start  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", default="results")
    parser.add_argument("--quote", default=None, help="quote id (default: the first card)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "review-card.png"))
    args = parser.parse_args()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "results"  # decisions made elsewhere stay out of the picture
        shutil.copytree(args.results, copy, ignore=shutil.ignore_patterns("review-cache"))
        server = start(copy, reviewer="reviewer", audio_roots=(Path(args.results).resolve().parent,))
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-sync", "--hide-scrollbars",
                    "--window-size=900,1400", f"--user-data-dir={Path(tmp) / 'profile'}"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
        try:
            driver.get(server.url)
            while driver.execute_script("return document.body.dataset.ready") != "1":
                time.sleep(0.05)
            pick = f'[data-quote-id="{args.quote}"]' if args.quote else "article.card"
            card = driver.find_element("css selector", pick)
            driver.execute_script("arguments[0].scrollIntoView(); review.focusCard(review.cards.indexOf("
                                  "arguments[0]));", card)
            time.sleep(1.5)  # the waveform's peaks
            card.screenshot(args.out)
        finally:
            driver.quit()
            server.stop()
    print(args.out)


if __name__ == "__main__":
    main()
