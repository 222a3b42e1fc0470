"""Feeds and pages from a real HTTP server on 127.0.0.1 (tests/servers/news_site.py): extraction, incremental
refresh, and every way a fetch can fail reported per item without stopping the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.feeds import RemoteSources, page_article, read_feed_list
from ingest.fetch import FetchError, FetchPolicy, check_url, fetch
from ingest.indexer import IngestReport
from ingest.service import Newsdesk
from rag.pipeline import Pipeline
from rag.records import Article
from tests.servers.news_site import BAD, GOOD, Site, news_site

pytestmark = pytest.mark.integration

# The server is private (127.0.0.1), so it is allowed by address, not by NEWSDESK_ALLOW_PRIVATE_URLS: the
# redirect to 127.0.0.2 must still be refused. Short waits keep the timeout and retry cases quick.
POLICY = FetchPolicy(timeout=0.5, retries=1, backoff=0.01, allow_addresses=frozenset({"127.0.0.1"}))


@pytest.fixture
def site() -> Iterator[Site]:
    with news_site() as served:
        yield served


def ingest(pipeline: Pipeline, *urls: str) -> IngestReport:
    remote = RemoteSources.from_args(list(urls), pipeline.settings, POLICY)
    report = Newsdesk(pipeline).ingest(remote.paths, extra=remote.items())  # the façade, as the CLI calls it
    remote.commit()
    return report


def test_a_page_keeps_the_article_and_drops_the_clutter(site: Site) -> None:
    got = fetch(site.base + "/a/1.html", POLICY)
    article = page_article(got, site.base + "/a/1.html")
    assert isinstance(article, Article)
    assert article.text.startswith("The city council voted on Tuesday to close the old river bridge")
    assert "carry the extra load without new signals." in article.text
    for clutter in ("Subscribe", "ADVERTISEMENT", "Cheap flights", "All rights reserved", "Privacy", "Most read",
                    "By Jane Roe"):
        assert clutter not in article.text
    assert (article.title, article.published_at, article.authors, article.source) == (
        "Council closes the old bridge", "2022-06-14", ("Jane Roe",), "Riverside Courier")


def test_an_atom_feed_and_another_layout(site: Site, pipeline: Pipeline) -> None:
    report = ingest(pipeline, site.base + "/atom.xml")
    assert (report.added, report.rejected) == (1, [])
    [passage] = pipeline.retrieve("When does the night market close?", k=1, asked_on="2022-06-18")
    chunk = passage.chunk
    assert (chunk.title, chunk.published_at, chunk.source) == (
        "Night market opens on the quay", "2022-06-17", "The Harbour Herald")  # no site name: the feed's title
    assert "forty stalls selling food" in chunk.text and "review the market after the summer" in chunk.text
    for clutter in ("cookies", "Accept all", "Share on", "newsletter", "Great news", "Terms", "Weather"):
        assert clutter not in chunk.text


def test_a_feed_goes_in_and_each_bad_item_is_reported_with_its_reason(site: Site, pipeline: Pipeline) -> None:
    report = ingest(pipeline, site.base + "/mixed.xml")
    assert report.added == 3 and report.exit_code == 3
    reasons = {r.where.removeprefix(site.base): r.reason for r in report.rejected}
    assert set(reasons) == set(BAD)
    assert reasons["/a/missing.html"] == "HTTP 404 Not Found"
    assert reasons["/a/slow.html"] == "no response within 0.5 s"
    assert reasons["/a/huge.html"] == "the page is over the 5 MB limit"
    assert reasons["/a/photo.png"] == "not a web page (image/png)"
    assert reasons["/a/moved.html"].startswith(f"redirected to http://127.0.0.2:{site.base.rsplit(':', 1)[1]}/a/1.html")
    assert reasons["/a/moved.html"].endswith("is a loopback or private address (set NEWSDESK_ALLOW_PRIVATE_URLS=true "
                                             "to allow)")
    assert site.hits["/a/slow.html"] == 2  # a timeout is retried once; a 404 is not
    assert site.hits["/a/missing.html"] == 1
    found = pipeline.retrieve("When does the night ferry run?", asked_on="2022-06-16")
    assert found[0].chunk.url == site.base + "/a/2.html"
    assert (found[0].chunk.title, found[0].chunk.published_at, found[0].chunk.source) == (
        "Harbour ferry adds a night service", "2022-06-15", "Riverside Courier")


def test_a_rerun_fetches_nothing_and_one_changed_item_re_embeds_one_article(site: Site, pipeline: Pipeline) -> None:
    first = ingest(pipeline, site.base + "/clean.xml")
    assert (first.added, first.exit_code) == (3, 0)
    pages_before = sum(site.hits[p] for p in GOOD)

    again = ingest(pipeline, site.base + "/clean.xml")
    assert (again.added, again.updated, again.chunks_embedded) == (0, 0, 0)
    assert sum(site.hits[p] for p in GOOD) == pages_before  # the feed answered 304; no page was asked for
    assert [n.message for n in again.notes] == ["unchanged since the last fetch (HTTP 304); nothing fetched"]

    site.edits["2"] = "Correction: the night boats will not stop at the northern pier."
    changed = ingest(pipeline, site.base + "/clean.xml")
    assert (changed.added, changed.updated, changed.unchanged) == (0, 1, 0)
    assert changed.chunks_embedded >= 1
    assert site.hits["/a/2.html"] == 2 and site.hits["/a/1.html"] == 1 and site.hits["/a/3.html"] == 1
    assert "1 item(s)" not in " ".join(n.message for n in changed.notes)  # two unchanged items, said once
    assert any("2 item(s) unchanged" in n.message for n in changed.notes)


def test_items_that_leave_the_feed_stay(site: Site, pipeline: Pipeline) -> None:
    assert ingest(pipeline, site.base + "/clean.xml").added == 3
    site.only = ["/a/3.html"]  # the feed moves on: two items drop off it
    remote = RemoteSources.from_args([site.base + "/clean.xml"], pipeline.settings, POLICY)
    report = Newsdesk(pipeline).ingest(remote.paths, prune=True, extra=remote.items())  # even --prune keeps them
    assert (report.removed, pipeline.status().articles) == (0, 3)


def test_a_story_in_two_feeds_is_fetched_once(site: Site, pipeline: Pipeline) -> None:
    report = ingest(pipeline, site.base + "/clean.xml", site.base + "/top.xml")
    assert (report.added, report.rejected) == (3, [])
    assert site.hits["/a/1.html"] == 1


def test_a_feed_list_is_read_like_a_folder(site: Site, pipeline: Pipeline, tmp_path: Path) -> None:
    listing = tmp_path / "feeds.txt"
    listing.write_text(f"# my feeds\n{site.base}/clean.xml\n\nnot a url\n{site.base}/a/missing.html\n", "utf-8")
    urls, bad = read_feed_list(listing)
    assert urls == [site.base + "/clean.xml", site.base + "/a/missing.html"]
    assert [(b.where, b.reason.split(";")[0]) for b in bad] == [(f"{listing}:4", "not an http(s) address")]
    report = ingest(pipeline, str(listing))
    assert report.added == 3
    assert sorted(r.reason for r in report.rejected)[0] == "HTTP 404 Not Found"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "only http and https addresses are fetched"),
        ("http://localhost/", "is a loopback or private address"),
        ("http://10.1.2.3/feed", "10.1.2.3 is a loopback or private address"),
        ("http://192.168.0.10/", "192.168.0.10 is a loopback or private address"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a loopback or private address"),
        ("http://[::1]:8000/", "::1 is a loopback or private address"),
    ],
)
def test_unsafe_addresses_are_refused_before_any_connection(url: str, reason: str) -> None:
    assert reason in check_url(url, FetchPolicy())
    result = fetch(url, FetchPolicy())
    assert isinstance(result, FetchError) and reason in result.reason


@pytest.mark.unit
def test_allow_private_lets_them_through() -> None:
    assert check_url("http://127.0.0.1:9/", FetchPolicy(allow_private=True)) == ""
