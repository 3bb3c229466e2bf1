"""How the message catalogue is made: the extractors `babel.cfg` names, and the message ids of the
source that the tests hold the Dutch catalogue against.

`make messages` runs `pybabel extract` with these extractors, then `update` and `compile`.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "tiptriage"

Extracted = tuple[int, str, tuple[str | None, ...], list[str]]


def extract_python(fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str],
                   options: Mapping[str, Any]) -> Iterator[Extracted]:
    """Calls of the keywords (`_`, `refusal`, `N_`) with their literal arguments, read from the syntax
    tree: unlike Babel's tokenizer on Python 3.11, this also finds calls inside f-strings."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in keywords:
            args = tuple(a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
                         for a in node.args)
            yield node.lineno, node.func.id, args, []


def extract_help(fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str],
                 options: Mapping[str, Any]) -> Iterator[Extracted]:
    """The calls in the file, as `extract_python` finds them (Babel gives a file to the first section
    of babel.cfg it matches, only), and the help texts of the Typer app named by the `app` option
    (`module:attribute`): command docstrings, option and argument help, as `--help` shows them, each
    with the command it belongs to, for the translator."""
    import typer

    from tiptriage.clihelp import texts

    yield from extract_python(fileobj, keywords, comment_tags, options)

    module, _, attribute = options["app"].partition(":")
    app = getattr(importlib.import_module(module), attribute)
    for path, text in texts(typer.main.get_command(app), "tiptriage"):
        yield 1, "_", (text,), [f"{path} --help"]


def source_messages() -> dict[tuple[str, str | None], list[str]]:
    """Every message id the source uses, with its context (None but for `NP_`) and where: extracted
    as `make messages` does."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[tuple[str, str | None], list[str]] = {}
    for filename, lineno, msgid, _comments, context in extract_from_dir(ROOT, method_map, options_map):
        found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found
