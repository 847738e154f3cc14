"""The error page speaks the page's language: its message is not Werkzeug's English body."""

from __future__ import annotations


def test_404_page_is_german_under_its_german_title(client):
    response = client.get("/gibt-es-nicht")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Das hat nicht geklappt (404)" in html
    assert "Diese Seite gibt es nicht." in html
    assert "requested URL was not found" not in html


def test_404_page_in_english(client):
    html = client.get("/nope?lang=en").get_data(as_text=True)
    assert "That did not work (404)" in html and "This page does not exist." in html


def test_405_page_is_translated_too(client):
    response = client.get("/consent/withdraw")  # POST only
    assert response.status_code == 405
    html = response.get_data(as_text=True)
    assert "Diese Adresse lässt sich so nicht aufrufen." in html
    assert "not allowed for the requested URL" not in html
