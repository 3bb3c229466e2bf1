"""The language belongs to the call: each context and thread its own, Dutch by default."""

from __future__ import annotations

import contextvars
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tiptriage import i18n
from tiptriage.catalogue import source_messages
from tiptriage.i18n import Words, _, choose, lang, language, message, number, refusal
from tiptriage.subjects import linkage


def test_dutch_by_default_and_english_on_request():
    assert lang() == "nl" and _("Stored") == "Opgeslagen"
    with language("en"):
        assert _("Stored") == "Stored"
        assert _("No report with id {id}.", id=7) == "No report with id 7."
    assert _("No report with id {id}.", id=7) == "Geen melding met nummer 7."


def test_languages_nest_and_come_back():
    with language("en"):
        with language("nl"):
            assert _("Reports") == "Meldingen"
        assert _("Reports") == "Reports"
    assert _("Reports") == "Meldingen"


def test_a_refusal_is_said_in_the_language_of_whoever_reads_it():
    error = refusal(LookupError, "No report with id {id}.", id=3)
    assert str(error) == "No report with id 3."  # logs and tracebacks stay English
    assert message(error) == "Geen melding met nummer 3."
    with language("en"):
        assert message(error) == "No report with id 3."


def test_two_threads_each_get_their_own_language_at_the_same_time():
    both_set, said = threading.Barrier(2), {}

    def user(code: str) -> None:
        with language(code):
            both_set.wait(timeout=10)  # both languages are set before either speaks
            said[code] = (_("Stored"), number(1234.5), message(refusal(ValueError, "Unknown state.")))
            both_set.wait(timeout=10)

    threads = [threading.Thread(target=user, args=(code,)) for code in ("nl", "en")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert said == {"nl": ("Opgeslagen", "1.234,5", "Onbekende status."),
                    "en": ("Stored", "1,234.5", "Unknown state.")}


def test_a_context_keeps_its_language_when_another_changes():
    def speak(code: str) -> str:
        with language(code):
            return _("Stored")

    english = contextvars.copy_context()
    assert english.run(speak, "en") == "Stored"
    assert _("Stored") == "Opgeslagen" and lang() == "nl"


def test_numbers_follow_the_language():
    assert number(1234567) == "1.234.567"
    with language("en"):
        assert number(1234567) == "1,234,567"


@pytest.mark.parametrize("value, code", [(None, "nl"), ("", "nl"), ("  ", "nl"), ("en", "en"), ("EN", "en"),
                                         ("en_GB", "en"), ("en-US.UTF-8", "en"), ("nl_NL", "nl"), (" nl ", "nl")])
def test_settings_name_a_language(value, code):
    assert choose(value) == code


@given(st.text(max_size=12))
def test_any_setting_is_a_language_or_a_refusal_naming_it(value):
    try:
        code = choose(value)
    except ValueError as exc:
        assert repr(value) in str(exc) and "nl, en" in str(exc)
    else:
        assert code in i18n.LANGUAGES
        assert choose(code) == code  # what was chosen chooses itself


@given(st.sampled_from(i18n.LANGUAGES), st.sampled_from(["", "_NL", "_GB", "-BE", ".UTF-8", "_NL.UTF-8"]),
       st.booleans())
def test_case_region_and_encoding_do_not_change_the_language(code, tail, upper):
    value = code + tail
    assert choose(value.upper() if upper else value) == code


def test_linkage_evidence_reads_in_dutch():
    """Linkage's words are values, shown through `_()`: each must be marked for extraction (and so be
    translated, tests/test_catalogue.py)."""
    words = {f.name for f in linkage.FIELDS} | {level.label for f in linkage.FIELDS for level in f.levels}
    words |= {"given_name_conflict", "birth_conflict", "uncorroborated", "household_only"}
    assert sorted(words - {msgid for msgid, _context in source_messages()}) == []
    assert _("household_only") == "alleen wat een huishouden deelt"


def test_vocabulary_words_in_a_refusal_are_said_in_the_readers_language():
    error = refusal(ValueError, "warning {id} is {state}: only a {required} warning can {action}", id=4,
                    state=Words("delivered"), required=Words("proposed"), action=Words("approve", context="action"))
    assert str(error) == "warning 4 is delivered: only a proposed warning can approve"
    assert message(error) == "waarschuwing 4 is uitgereikt: goedkeuren kan alleen bij een waarschuwing met status voorgesteld"
    # an action an actor may take is said in its own context, as what one does
    assert message(refusal(ValueError, "{w}", w=Words("close", context="action"))) == "onderzoeken sluiten"
    rules = refusal(ValueError, "no WARNING for report {id}: {rules} (hard rules)", id=2,
                    rules=Words("never WARNING when any file is unrated", "never WARNING for a minor: the youth track applies",
                                sep="; "))
    assert message(rules) == ("geen WAARSCHUWING voor melding 2: nooit WAARSCHUWING als een bestand onbeoordeeld is; "
                              "nooit WAARSCHUWING voor een minderjarige: het jeugdtraject geldt (harde regels)")
    with language("en"):
        assert message(rules) == str(rules)
