"""User-facing text: Dutch by default, English available (TIPTRIAGE_LANG=en or --lang en).

Message ids are the English text; the Dutch catalogue below translates them. Code, logs and the
audit log stay in English. Numbers and dates are formatted with Babel for the chosen locale.
"""

from __future__ import annotations

import os

NL = {
    "Stored": "Opgeslagen",
    "Duplicates": "Dubbel (al aanwezig)",
    "New versions": "Nieuwe versies",
    "Rejected": "Geweigerd",
    "Files read": "Bestanden gelezen",
    "Ingest summary": "Samenvatting invoer",
    "Rejected input": "Geweigerde invoer",
    "File": "Bestand",
    "Record": "Record",
    "Report": "Melding",
    "Field": "Veld",
    "Reason": "Reden",
    "Reports": "Meldingen",
    "Source": "Bron",
    "External id": "Extern nummer",
    "Version": "Versie",
    "Incident": "Incident",
    "Persons": "Personen",
    "Files": "Bestanden",
    "Ingested": "Ingelezen",
    "Reading report files": "Meldingsbestanden lezen",
    "No report with id {id}.": "Geen melding met nummer {id}.",
    "Audit log intact: {n} events verified.": "Auditlog intact: {n} gebeurtenissen gecontroleerd.",
    "Audit log BROKEN at event {seq}: {problem}": "Auditlog GEBROKEN bij gebeurtenis {seq}: {problem}",
    "{total} reports in the store.": "{total} meldingen in de opslag.",
    "Wrote {reports} reports to {out} in {seconds} s.": "{reports} meldingen geschreven naar {out} in {seconds} s.",
    "Generating reports": "Meldingen maken",
    "{path} already holds a data set: choose an empty folder.":
        "{path} bevat al een gegevensset: kies een lege map.",
    "Synthetic data set": "Synthetische gegevensset",
    "CyberTipline XML": "CyberTipline-XML",
    "of which with separate file details": "waarvan met losse bestandsgegevens",
    "tiptriage JSON (other senders)": "tiptriage-JSON (andere melders)",
    "CSV bulk list": "CSV-bulklijst",
    "Reported persons": "Gemelde personen",
    "Known hashes (VICS)": "Bekende hashes (VICS)",
    "Known hashes (CSV bank)": "Bekende hashes (CSV-bank)",
    "Shared IP addresses (traps)": "Gedeelde IP-adressen (valkuilen)",
    "Warnings delivered": "Uitgereikte waarschuwingen",
    "Re-reports after a warning": "Nieuwe meldingen na een waarschuwing",
    "Expected outcomes (ground truth)": "Verwachte uitkomsten (grondwaarheid)",
    "Outcome": "Uitkomst",
    "Quarantine": "Quarantaine",
    "When": "Wanneer",
    "Persons in report": "Personen in melding",
    "Role": "Rol",
    "Name": "Naam",
    "Identifiers": "Kenmerken",
    "Action": "Handeling",
    "Classification": "Classificatie",
    "Hashes": "Hashes",
    "No such path: {path}": "Pad bestaat niet: {path}",
    "Files {status}": "Bestanden {status}",
    "Match": "Match",
    # media
    "A mapping is CODE=CATEGORY, not {text}": "Een koppeling is CODE=CATEGORIE, niet {text}",
    "Added": "Toegevoegd",
    "Bank file refused; the bank is unchanged": "Bankbestand geweigerd; de bank is ongewijzigd",
    "Bank {name} is unchanged at version {version} ({n} entries).":
        "Bank {name} is ongewijzigd op versie {version} ({n} hashes).",
    "Bank {name}, version {version}": "Bank {name}, versie {version}",
    "Bank": "Bank",
    "Banks": "Banken",
    "By": "Door",
    "Category map": "Categorie-indeling",
    "Category": "Categorie",
    "Count": "Aantal",
    "Distance": "Afstand",
    "Entries": "Hashes",
    "File {id}: {status} ({reason})": "Bestand {id}: {status} ({reason})",
    "Format": "Formaat",
    "Hash type": "Hashtype",
    "Imported": "Ingelezen",
    "Input": "Invoer",
    "Is": "Nu",
    "Line": "Regel",
    "Matched files affected": "Geraakte gematchte bestanden",
    "Matched {files} files: {statuses}.": "{files} bestanden gematcht: {statuses}.",
    "Matches": "Matches",
    "No bank named {name}.": "Geen bank met de naam {name}.",
    "Re-categorised": "Hergecategoriseerd",
    "Removed": "Verwijderd",
    "Series": "Serie",
    "Status changes": "Statuswijzigingen",
    "Unknown format or hash type.": "Onbekend formaat of hashtype.",
    "Versions": "Versies",
    "Was": "Was",
    "no match": "geen match",
    "{files} files changed status, in reports: {reports}": "{files} bestanden van status veranderd, in meldingen: {reports}",
    "… and {n} more problems.": "… en nog {n} problemen.",
    "quality": "kwaliteit",
    "{n} frames": "{n} beelden",
    "known": "bekend",
    "new": "nieuw",
    "unrated": "onbeoordeeld",
    "non_pertinent": "niet relevant",
    "child_abuse": "kindermisbruikmateriaal",
    "exploitive": "uitbuitend (grensgeval)",
    "cgi_animation": "CGI/animatie",
}


def lang() -> str:
    value = os.environ.get("TIPTRIAGE_LANG", "nl").lower()
    return "en" if value.startswith("en") else "nl"


def _(msgid: str, **values: object) -> str:
    text = NL.get(msgid, msgid) if lang() == "nl" else msgid
    return text.format(**values) if values else text


def number(value: int | float) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale="nl_NL" if lang() == "nl" else "en_GB")
