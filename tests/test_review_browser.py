"""The review app and the exported report in a real browser (Debian's chromium, via selenium).

One headless Chromium for the module, started with a proxy that leads nowhere, so
nothing outside 127.0.0.1 can be reached. The results folder is generated
(tests/review_fixture.py): no model runs here.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time

import pytest
from review_fixture import ORDER, make_results

from pipeline.review import export_report
from pipeline.review.app import start

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
# Skipped on a machine without the browser, never in CI (CI=true), where .ci/run installs it.
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER) and not os.environ.get("CI"),
    reason="needs chromium and chromium-driver (.ci/run installs them)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--autoplay-policy=no-user-gesture-required", "--proxy-server=127.0.0.1:9",
                "--window-size=1100,900", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("review")
    return make_results(root)


@pytest.fixture(scope="module")
def app(folder):
    server = start(folder, reviewer="ana", audio_roots=(folder.parent,))
    yield server
    server.stop()


def wait_for(condition, timeout=5.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")


def open_page(driver, url):
    driver.get(url)
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready === '1'"))


def card_ids(driver):
    return driver.execute_script("return review.cards.map(c => c.dataset.quoteId)")


def audio_state(driver, quote_id):
    return driver.execute_script(
        "const el = review.cards.find(c => c.dataset.quoteId === arguments[0]);"
        "const a = el.querySelector('audio');"
        "return [parseFloat(el.dataset.clipStart) + a.currentTime, a.paused];", quote_id)


def played_inside_the_span(driver, quote_id, start, end):
    first = wait_for(lambda: (s := audio_state(driver, quote_id)) and not s[1] and s[0] > start and s)
    time.sleep(0.3)
    later = audio_state(driver, quote_id)
    assert start <= first[0] <= end and later[0] > first[0]


def test_cards_are_in_review_order(browser, app):
    open_page(browser, app.url)
    assert card_ids(browser) == ORDER


def test_a_click_plays_the_span(browser, app):
    open_page(browser, app.url)
    browser.find_element("css selector", '[data-quote-id="t:3"] button.play-span').click()
    played_inside_the_span(browser, "t:3", 22.2, 26.8)


def test_a_keyboard_decision_survives_reload_and_restart(browser, app, folder):
    open_page(browser, app.url)
    body = browser.find_element("css selector", "body")
    body.send_keys("j")  # from the first card (t:2) to the second (t:1)
    body.send_keys("3")  # misquote
    status = '[data-quote-id="t:1"] .status'
    wait_for(lambda: "Saved: misquote by ana" in browser.find_element("css selector", status).text)
    browser.refresh()
    wait_for(lambda: "misquote by ana" in browser.find_element("css selector", status).text)
    restarted = start(folder, reviewer="ben", audio_roots=(folder.parent,))
    try:
        open_page(browser, restarted.url)
        assert "Decided misquote by ana" in browser.find_element("css selector", status).text
    finally:
        restarted.stop()
    rows = {r["quote_id"]: r for r in csv.DictReader(open(folder / "quotes.csv", encoding="utf-8"))}
    assert (rows["t:1"]["review_verdict"], rows["t:1"]["reviewer"], rows["t:1"]["verdict_source"]) == (
        "misquote", "ana", "reviewer")


def test_injected_article_html_is_inert(browser, app):
    open_page(browser, app.url)
    assert browser.execute_script("return window.pwned === undefined")
    quote = browser.find_element("css selector", '[data-quote-id="t:evil"] blockquote').text
    assert "<script>window.pwned=1</script>" in quote and "</textarea>" in quote
    assert not browser.find_elements("css selector", "article img")


def test_path_traversal_is_refused(browser, app, folder):
    (folder / "passwd-link.wav").symlink_to("/etc/passwd")
    open_page(browser, app.url)
    statuses = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const paths = ['/static/..%2f..%2fetc%2fpasswd', '/static/%2e%2e/%2e%2e/etc/passwd',
                       '/clip?q=..%2F..%2Fetc%2Fpasswd', '/clip?q=passwd-link.wav', '/static/passwd-link.wav',
                       '/clip?q=t%3Aelsewhere'];
        Promise.all(paths.map(p => fetch(p).then(r => r.text().then(t => [r.status, t.includes('root:')]))))
          .then(done);""")
    assert all(status == 404 and not leaked for status, leaked in statuses), statuses


def test_the_exported_report_plays_with_the_network_blocked(browser, folder, tmp_path):
    report = export_report(folder, tmp_path / "report.html", audio_roots=(folder.parent,))
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    browser.get("about:blank")
    browser.get_log("performance")  # drop what came before
    try:
        open_page(browser, report.as_uri())
        assert card_ids(browser) == ORDER
        browser.find_element("css selector", '[data-quote-id="t:2"] button.play-span').click()
        played_inside_the_span(browser, "t:2", 8.2, 11.8)
        urls = [json.loads(e["message"])["message"]["params"].get("request", {}).get("url", "")
                for e in browser.get_log("performance")]
        assert not [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))]
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
