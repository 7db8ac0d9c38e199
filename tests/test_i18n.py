"""Dates and session lengths in the client's language (plandoc.i18n)."""

from __future__ import annotations

import datetime as dt

import pytest

from plandoc.i18n import primary_language, session_length, words_language
from plandoc.layouts.languages import document_language
from plandoc.layouts.layout import find_layout

DAY = dt.date(2026, 8, 3)


@pytest.mark.parametrize(
    ("tag", "text"),
    [("en", "August 3, 2026"), ("en-US", "August 3, 2026"), ("es", "3 de agosto de 2026"),
     ("es-MX", "3 de agosto de 2026"), ("es-ES", "3 de agosto de 2026"),
     ("en-GB", "3 August 2026")],
)  # fmt: skip
def test_dates_read_in_the_client_s_language(tag, text):
    # The client copy's words for a plan in `tag` (a tag with no catalog reads English).
    assert document_language(find_layout("client-copy"), tag).date(DAY) == text


def test_a_language_the_client_copy_has_no_words_for_is_refused_not_guessed():
    with pytest.raises(
        LookupError, match="has no translation for 'xx-YY': its languages are en, es"
    ):
        document_language(find_layout("client-copy"), "xx-YY")


@pytest.mark.parametrize(
    ("minutes", "english", "spanish"),
    [
        (12, "about 10 minutes", "unos 10 minutos"),
        (45, "about 45 minutes", "unos 45 minutos"),
        (47, "about 50 minutes", "unos 50 minutos"),
        (50, "about 50 minutes", "unos 50 minutos"),
        (53, "about 50 minutes", "unos 50 minutos"),
        (55, "about an hour", "alrededor de una hora"),
        (60, "about an hour", "alrededor de una hora"),
        (90, "about an hour and a half", "alrededor de una hora y media"),
        (120, "about two hours", "alrededor de dos horas"),
        (150, "about 2.5 hours", "unas 2,5 horas"),
    ],
)
def test_session_lengths_read_as_round_words(minutes, english, spanish):
    assert session_length(minutes, "en") == english
    assert session_length(minutes, "es-MX") == spanish
    assert session_length(minutes, "de") == english  # no words of its own: English


def test_a_tag_falls_back_to_its_primary_language():
    assert primary_language("es-MX") == "es" and primary_language("EN_gb") == "en"
    assert words_language("es-419") == "es" and words_language("fr") == "en"
