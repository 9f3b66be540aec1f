"""The Due to requalify and People pages run in AppTest on an empty database, on demo data,
and say so when the database cannot be reached."""

from __future__ import annotations

import pytest

from tests.e2e.test_ops_pages import run_page, texts

PAGES = ("pages/9_Requalify.py", "pages/10_People.py")


@pytest.mark.parametrize("path", PAGES)
def test_each_requalification_page_runs_cleanly_on_an_empty_database(path, empty_db_url, use_database):
    use_database(empty_db_url)
    at = run_page(path)
    assert not at.exception
    assert not at.error, texts(at.error)
    assert "Nobody matches" in texts(at.info) or "No certificate expires" in texts(at.info)


@pytest.mark.parametrize("path", PAGES)
def test_each_requalification_page_runs_cleanly_on_demo_data(path, demo_db_url, use_database):
    use_database(demo_db_url)
    at = run_page(path)
    assert not at.exception
    assert not at.error, texts(at.error)


@pytest.mark.parametrize("path", PAGES)
def test_each_requalification_page_says_so_when_the_database_cannot_be_reached(path, use_database):
    use_database("postgresql+psycopg://nobody@127.0.0.1:9/nowhere")  # nothing listens on port 9
    at = run_page(path)
    assert not at.exception
    assert "cannot be reached" in texts(at.error)
    assert not at.button
