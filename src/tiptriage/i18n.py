"""User-facing text: Dutch by default, English available.

Message ids are the English text, in the code (`_`, `refusal`, `N_`); the Dutch texts are in the
gettext catalogue `locale/nl/LC_MESSAGES/tiptriage.po` (`make messages` extracts, updates and
compiles it). The language belongs to the call, not the process: `language("en")` sets it for the
code it wraps (a context variable, so threads and asynchronous tasks each keep their own); the CLI
sets it once from `--lang` or `TIPTRIAGE_LANG`, a web request will set it from its user. Code, logs
and the audit log stay in English. Numbers are formatted with Babel for the language.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

LANGUAGES = ("nl", "en")
DEFAULT = "nl"
_LOCALES = {"nl": "nl_NL", "en": "en_GB"}  # for numbers
_LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_current: ContextVar[str] = ContextVar("tiptriage_language", default=DEFAULT)


def choose(value: str | None) -> str:
    """The language a setting names: 'en', 'EN', 'en_GB', 'en-US.UTF-8' are English, nothing or
    blank the default; a language tiptriage has no text in is refused."""
    code = (value or "").strip().lower().replace("-", "_").split(".")[0].split("_")[0]
    if not code:
        return DEFAULT
    if code not in LANGUAGES:
        raise refusal(ValueError, "language {value!r} is not available; choose one of {languages}",
                      value=value, languages=", ".join(LANGUAGES))
    return code


@contextmanager
def language(value: str | None) -> Iterator[str]:
    """Say everything inside in this language (see `choose`); the previous one is back after."""
    token = _current.set(choose(value))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def lang() -> str:
    """The language of the current call."""
    return _current.get()


@cache
def _translations(code: str) -> gettext.NullTranslations:
    if code == "en":  # the message ids are the English text
        return gettext.NullTranslations()
    from babel.support import Translations

    return Translations.load(_LOCALE_DIR, [code], domain="tiptriage")


def _(msgid: str, /, **values: object) -> str:
    text = _translations(lang()).gettext(msgid)
    return text.format(**values) if values else text


def N_(msgid: str) -> str:
    """Marks a message id for extraction where it is defined (a vocabulary word, an outcome), for
    `_()` to translate where it is shown."""
    return msgid


def NP_(context: str, msgid: str) -> str:
    """As `N_`, for a word that needs its own translation in `context`: what an actor may do
    ("close" is "onderzoeken sluiten") is said apart from the same word as a state or operation."""
    return msgid


def in_context(context: str, msgid: str) -> str:
    """`msgid` as translated for `context` (see `NP_`)."""
    return _translations(lang()).pgettext(context, msgid)


class Words(tuple):
    """Vocabulary words among a refusal's values (a state, an outcome, rules): English in the error's
    text, said in the reader's language by `message`."""

    def __new__(cls, *words: str, sep: str = ", ", context: str | None = None) -> Words:
        self = super().__new__(cls, words)
        self.sep, self.context = sep, context
        return self

    def __str__(self) -> str:
        return self.sep.join(self)

    def __format__(self, spec: str) -> str:  # as the words, not as a tuple
        return format(str(self), spec)

    def said(self) -> str:
        return self.sep.join(in_context(self.context, w) if self.context else _(w) for w in self)


def refusal(kind: type[Exception], msgid: str, /, **values: object) -> Exception:
    """An error of `kind` that the user reads: its text is the English message, and it keeps the
    message id and values so the CLI can say it in the user's language (`message`)."""
    error = kind(msgid.format(**values))
    error.msgid, error.values = msgid, values
    return error


def worded(error: Exception, msgid: str, /, *, steps: Mapping[str, str] | None = None, **values: object) -> None:
    """Give an exception made by its own class (with fields a caller reads) the text a user reads,
    as `refusal` does: call from its __init__ with the message id marked N_("..."). `steps` say
    what to do next where the reader is (N_ ids by channel: "cli" for the terminal, "web" for the
    screens), since a command line is no help on a page."""
    error.msgid, error.values, error.steps = msgid, values, dict(steps or {})
    Exception.__init__(error, " ".join([msgid.format(**values)]
                                       + ([error.steps["cli"].format(**values)] if "cli" in error.steps else [])))


def message(error: BaseException, channel: str = "cli") -> str:
    """An error's text in the user's language when it was made with `refusal`, else as it is; with
    the next step for the channel the reader is on, when the error says one."""
    msgid = getattr(error, "msgid", None)
    if not msgid:
        return str(error)
    values = {k: v.said() if isinstance(v, Words) else v for k, v in error.values.items()}
    step = getattr(error, "steps", {}).get(channel)
    return " ".join([_(msgid, **values)] + ([_(step, **values)] if step else []))


def number(value: int | float) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale=_LOCALES[lang()])
