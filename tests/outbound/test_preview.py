"""hub/outbound/preview.py: the link a preview is for, and a page's title and description."""
from __future__ import annotations

import pytest

from hub.errors import BadRequest
from hub.outbound.preview import first_url, link_preview, page_facts


def test_first_url_drops_trailing_punctuation():
    assert first_url("Vea (https://tienda.example/a?b=1), hoy.") == "https://tienda.example/a?b=1"
    assert first_url("sin enlace") is None


def test_open_graph_wins_over_title_and_entities_are_decoded():
    page = ('<head><title> Tienda\n Lima </title><meta name="description" content="Zapatos &amp; más">'
            "<meta content='Oferta' property='og:title'></head>")
    assert page_facts(page) == {"title": "Oferta", "description": "Zapatos & más"}
    assert page_facts("<title>Solo título</title>") == {"title": "Solo título", "description": None}


def test_a_given_preview_must_belong_to_the_text(config):
    given = {"url": "https://tienda.example/x", "title": "X"}
    assert link_preview(config, given, "ver https://tienda.example/x") == given
    with pytest.raises(BadRequest) as error:
        link_preview(config, given, "ver https://otra.example/")
    assert error.value.code == "invalid_link_preview"
