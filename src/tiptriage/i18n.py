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
    "Stored documents do not match their SHA-256: {error}":
        "Opgeslagen documenten kloppen niet met hun SHA-256: {error}",
    "Not overwritten: {path} exists.": "Niet overschreven: {path} bestaat al.",
    "Documents of report {id}": "Documenten van melding {id}",
    "Bytes": "Bytes",
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
    "Persons {decision}": "Personen {decision}",
    "Recommended {outcome}": "Advies {outcome}",
    "Alerts raised": "Signaleringen",
    "Earlier reports triaged again (subjects joined)": "Eerdere meldingen opnieuw getrieerd (subjecten samengevoegd)",
    "Subject": "Subject",
    "Recommendation": "Advies",
    "priority": "prioriteit",
    "status": "status",
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
    "No stored file needed matching again.": "Geen opgeslagen bestand hoefde opnieuw gematcht te worden.",
    "Matches": "Matches",
    "No bank named {name}.": "Geen bank met de naam {name}.",
    "Re-categorised": "Hergecategoriseerd",
    "Removed": "Verwijderd",
    "Series": "Serie",
    "Status changes": "Statuswijzigingen",
    "Unknown format or hash type.": "Onbekend formaat of hashtype.",
    "Use --report or --bank (with --since), not both.": "Gebruik --report of --bank (met --since), niet allebei.",
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
    # triage, registry, operations
    "URGENT": "URGENT",
    "CRIMINAL_CASE": "STRAFZAAK",
    "WARNING": "WAARSCHUWING",
    "YOUTH": "JEUGD",
    "NEEDS_IDENTIFICATION": "IDENTIFICATIE NODIG",
    "NEEDS_REVIEW": "BEOORDELING NODIG",
    "FORWARD": "DOORZENDEN",
    "NO_ACTION": "GEEN ACTIE",
    "open": "open",
    "reopened": "heropend",
    "awaiting_approval": "wacht op goedkeuring",
    "decided": "besloten",
    "superseded": "vervangen",
    "confirm": "bevestigd",
    "override": "afgeweken",
    "proposed": "voorgesteld",
    "approved": "goedgekeurd",
    "delivered": "uitgereikt",
    "expired": "verlopen",
    "revoked": "ingetrokken",
    "rereport_after_warning": "nieuwe melding na waarschuwing",
    "deconfliction": "deconflictie",
    "possible_rereport": "mogelijk nieuwe melding na waarschuwing",
    "proposed_by": "voorgesteld door",
    "approved_by": "goedgekeurd door",
    "delivered_on": "uitgereikt op",
    "delivered_by": "uitgereikt door",
    "referral_offered": "verwijzing aangeboden",
    "referral_accepted": "verwijzing aanvaard",
    "expires_on": "verloopt op",
    "revoked_by": "ingetrokken door",
    "revoke_reason": "reden intrekking",
    "Triage ({policy})": "Triage ({policy})",
    "{triaged} reports triaged: {new} new recommendations, {same} unchanged, {alerts} alerts.":
        "{triaged} meldingen getrieerd: {new} nieuwe adviezen, {same} ongewijzigd, {alerts} signaleringen.",
    "Give report ids or --all, not both.": "Geef meldingnummers of --all, niet allebei.",
    "Unknown status or outcome.": "Onbekende status of uitkomst.",
    "Queue": "Werkvoorraad",
    "Priority": "Prioriteit",
    "Unit": "Eenheid",
    "Status": "Status",
    "Received": "Ontvangen",
    "Rule": "Regel",
    "Report {id} has not been triaged.": "Melding {id} is nog niet getrieerd.",
    "Report {id}: {outcome} (priority {priority}), unit {unit}, status {status}":
        "Melding {id}: {outcome} (prioriteit {priority}), eenheid {unit}, status {status}",
    "also: {rule} → {outcome}": "ook: {rule} → {outcome}",
    "Policy {policy}; history: {n} recommendations, {d} decisions.":
        "Beleid {policy}; geschiedenis: {n} adviezen, {d} besluiten.",
    "Give --confirm or --override OUTCOME.": "Geef --confirm of --override UITKOMST.",
    "Decision {id}: {kind} {outcome} for report {report}.": "Besluit {id}: {kind} {outcome} voor melding {report}.",
    "Risk item {item} recorded for report {report}.": "Risicofactor {item} vastgelegd bij melding {report}.",
    "Text": "Tekst",
    "Policy refused: {error}": "Beleid geweigerd: {error}",
    "Policy {ref} is valid: {n} rules, hard rules proven.":
        "Beleid {ref} is geldig: {n} regels, harde regels bewezen.",
    "Warning {id}: {state}, unit {unit}": "Waarschuwing {id}: {state}, eenheid {unit}",
    "report {id} ({source} {external_id})": "melding {id} ({source} {external_id})",
    "Unknown state.": "Onbekende status.",
    "Warnings": "Waarschuwingen",
    "Warning": "Waarschuwing",
    "State": "Status",
    "Proposed by": "Voorgesteld door",
    "Approved by": "Goedgekeurd door",
    "Delivered": "Uitgereikt",
    "Expires": "Verloopt",
    "No warning with id {id}.": "Geen waarschuwing met nummer {id}.",
    "A date is YYYY-MM-DD, not {text}": "Een datum is JJJJ-MM-DD, niet {text}",
    "Possible earlier warnings: check that this is not the same person":
        "Mogelijk eerdere waarschuwingen: controleer of dit niet dezelfde persoon is",
    "warning {id} ({state}, unit {unit}): {shared}": "waarschuwing {id} ({state}, eenheid {unit}): {shared}",
    "Warning {id} is not approved: earlier warnings {ids} may concern the same person. Check them with "
    "`tiptriage warnings show {id}`; approve only with --acknowledge-earlier REASON.":
        "Waarschuwing {id} is niet goedgekeurd: eerdere waarschuwingen {ids} gaan mogelijk over dezelfde persoon. "
        "Controleer ze met `tiptriage warnings show {id}`; keur alleen goed met --acknowledge-earlier REDEN.",
    "Warning {id} is not approved: the age at the incident of report {ids} is unknown. Check the date of birth "
    "in the population register (BRP) and record it with `tiptriage birth-date {report} --date YYYY-MM-DD "
    "--source BRP --note TEXT`; under 18 the youth track applies.":
        "Waarschuwing {id} is niet goedgekeurd: de leeftijd bij het incident van melding {ids} is onbekend. "
        "Controleer de geboortedatum in de BRP en leg die vast met `tiptriage birth-date {report} "
        "--date JJJJ-MM-DD --source BRP --note TEKST`; onder de 18 geldt het jeugdtraject.",
    "Warning {id} is not approved: according to the date of birth verified in the register the person was {age} "
    "at the incident of report {report}. The youth track applies, not a warning: revoke it with "
    "`tiptriage warnings revoke {id} --reason TEXT`.":
        "Waarschuwing {id} is niet goedgekeurd: volgens de in het register gecontroleerde geboortedatum was de "
        "persoon {age} jaar bij het incident van melding {report}. Het jeugdtraject geldt, geen waarschuwing: "
        "trek haar in met `tiptriage warnings revoke {id} --reason TEKST`.",
    "Report {report} identified ({source} {reference}): subject {subject}, linkage: {linkage}; "
    "recommendation now {outcome}.":
        "Melding {report} geïdentificeerd ({source} {reference}): subject {subject}, koppeling: {linkage}; "
        "advies nu {outcome}.",
    "identified as {person} ({source} {reference})": "geïdentificeerd als {person} ({source} {reference})",
    "Record whom you warned (identity document checked): tiptriage identify {report} "
    "--given-name ... --family-name ... --birth-date ... --source investigation "
    "--reference 'warning {id}' --note ...":
        "Leg vast wie u waarschuwde (identiteitsbewijs gecontroleerd): tiptriage identify {report} "
        "--given-name ... --family-name ... --birth-date ... --source investigation "
        "--reference 'waarschuwing {id}' --note ...",
    "Warning {id} is not approved: no name is known for the person of report {ids}. A warning "
    "is delivered to a person: identify them first with `tiptriage identify {report} "
    "--given-name ... --family-name ... --source provider|BRP --reference ... --note ...`.":
        "Waarschuwing {id} is niet goedgekeurd: van de persoon van melding {ids} is geen naam bekend. Een "
        "waarschuwing wordt aan een persoon uitgereikt: identificeer die eerst met `tiptriage identify {report} "
        "--given-name ... --family-name ... --source provider|BRP --reference ... --note ...`.",
    "an identification comes from one of {sources}, not {source}":
        "een identificatie komt uit {sources}, niet uit {source}",
    "an identification names the person: the given name is empty":
        "een identificatie noemt de persoon: de voornaam is leeg",
    "an identification names the person: the family name is empty":
        "een identificatie noemt de persoon: de achternaam is leeg",
    "a name is at most {limit} characters": "een naam heeft ten hoogste {limit} tekens",
    "a date of birth between 1900-01-01 and today, not {date}":
        "een geboortedatum tussen 1900-01-01 en vandaag, niet {date}",
    "a country is a two-letter code (NL, BE, ...), not {country}":
        "een land is een code van twee letters (NL, BE, ...), niet {country}",
    "give the reference of the request or register query (--reference)":
        "geef het kenmerk van de vordering of registerbevraging (--reference)",
    "say how the person was identified (a note)": "zeg hoe de persoon is geïdentificeerd (een notitie)",
    "no report with id {id}": "geen melding met nummer {id}",
    "report {id} has no reported person": "melding {id} heeft geen gemelde persoon",
    "report {id} has no reported person {ref}": "melding {id} heeft geen gemelde persoon {ref}",
    "report {id} names {n} reported persons ({refs}): say which with --person":
        "melding {id} noemt {n} gemelde personen ({refs}): zeg welke met --person",
    "joined a known subject": "samengevoegd met een bekend subject",
    "stayed with the same subject": "bleef bij hetzelfde subject",
    "possible match, for an analyst": "mogelijke match, ter beoordeling",
    "no other subject matches": "geen ander subject gevonden",
    "Possible matches for an analyst: reviews {ids} (tiptriage subjects review ID).":
        "Mogelijke matches voor een analist: beoordelingen {ids} (tiptriage subjects review ID).",
    "Date of birth {date} ({source}) recorded for report {report}; recommendation now {outcome}.":
        "Geboortedatum {date} ({source}) vastgelegd bij melding {report}; advies nu {outcome}.",
    "Escalated by the platform": "Geëscaleerd door het platform",
    "Where": "Waar",
    "Distribution": "Verspreiding",
    "distributed": "verspreid",
    "not_distributed": "niet verspreid",
    "undetermined": "onbepaald",
    "action": "actie vermeld",
    "publicly_available": "openbaar",
    "recipients": "ontvanger genoemd",
    "incident": "soort incident",
    "private_storage": "privé-opslag",
    "no_evidence": "melding zegt het niet",
    "finding": "vastgesteld door analist",
    "web_page": "webpagina",
    "newsgroup": "nieuwsgroep",
    "chat_im": "chat",
    "online_gaming": "online spel",
    "cell_phone": "mobiele telefoon",
    "non_internet": "buiten internet",
    "peer2peer": "peer-to-peer",
    "a finding comes from one of {sources}, not {source}": "een bevinding komt van een van {sources}, niet van {source}",
    "say how it was established (a note)": "zeg hoe het is vastgesteld (een toelichting)",
    "report {id} has no file {refs} (its files: {known})": "melding {id} heeft geen bestand {refs} (de bestanden: {known})",
    "Distribution of {files} file(s) of report {report} recorded ({source}); recommendation now {outcome}.":
        "Verspreiding van {files} bestand(en) van melding {report} vastgelegd ({source}); advies nu {outcome}.",
    "email": "e-mail",
    "phone": "telefoon",
    "account": "account",
    "screen_name": "schermnaam",
    "device": "apparaat",
    "ip": "IP-adres",
    "address": "adres",
    "name_birth": "naam en geboortejaar",
    "name": "naam",
    "Recorded by analysts": "Vastgelegd door analisten",
    "date of birth {date} ({source})": "geboortedatum {date} ({source})",
    "yes": "ja",
    "no": "nee",
    "access_to_children": "toegang tot kinderen",
    "prior_sexual_offence": "eerder zedendelict",
    "prior_record": "eerdere justitiële antecedenten",
    # Linkage evidence: fields, agreement levels and guards (subjects/linkage.py).
    "given_name": "voornaam",
    "family_name": "achternaam",
    "birth": "geboorte",
    "missing": "ontbreekt",
    "same": "gelijk",
    "different": "anders",
    "given and family name swapped": "voor- en achternaam verwisseld",
    "one or two typing errors": "een of twee tikfouten",
    "same initial": "zelfde voorletter",
    "sounds the same": "klinkt hetzelfde",
    "same date": "zelfde datum",
    "day and month swapped": "dag en maand verwisseld",
    "same year, one a 1 January default": "zelfde jaar, één keer 1 januari als standaard",
    "consistent (age, month or year only)": "verenigbaar (alleen leeftijd, maand of jaar)",
    "same year, other day": "zelfde jaar, andere dag",
    "conflict": "tegenstrijdig",
    "same address": "zelfde adres",
    "same postcode": "zelfde postcode",
    "same town": "zelfde plaats",
    "same address within hours": "zelfde adres binnen uren",
    "same address within days": "zelfde adres binnen dagen",
    "same address, other time": "zelfde adres, ander moment",
    "no shared address": "geen gedeeld adres",
    "given_name_conflict": "voornaam tegenstrijdig",
    "birth_conflict": "geboortedatum tegenstrijdig",
    "uncorroborated": "één soort bewijs zonder bevestiging",
    "household_only": "alleen wat een huishouden deelt",
    "known nickname or variant": "bekende roepnaam of variant",
    "one typing error": "één tikfout",
    "similar spelling": "lijkende spelling",
    "one digit wrong or two digits swapped": "één cijfer fout of twee cijfers verwisseld",
    "Only what a household shares agrees (family name, birth date, address, connection): whether this "
    "is one person or two (twins, siblings) can only be settled in the population register ({register}). "
    "Check it there before you confirm or reject.":
        "Alleen wat een huishouden deelt komt overeen (achternaam, geboortedatum, adres, verbinding): of dit "
        "één persoon is of twee (tweeling, broers of zussen) is alleen in de basisregistratie personen "
        "({register}) vast te stellen. Controleer het daar voordat u bevestigt of afwijst.",
    "Alerts": "Signaleringen",
    "Alert": "Signalering",
    "Kind": "Soort",
    "Other unit": "Andere eenheid",
    "Details": "Details",
    "Raised": "Gemeld",
    "Alert {id} acknowledged.": "Signalering {id} gezien.",
    "Investigations": "Onderzoeken",
    "Investigation": "Onderzoek",
    "Opened": "Geopend",
    "Closed": "Gesloten",
    "Investigation {id} closed.": "Onderzoek {id} gesloten.",
    "This week's plan": "Planning deze week",
    "Capacity (h)": "Capaciteit (u)",
    "Planned": "Gepland",
    "Planned (h)": "Gepland (u)",
    "Over capacity (h)": "Boven capaciteit (u)",
    "Waiting": "Wacht",
    "Waiting (h)": "Wacht (u)",
    "waits": "wacht",
    "Units": "Eenheden",
    "Postcodes": "Postcodes",
    "(default unit)": "(standaardeenheid)",
    "Subject {id}": "Subject {id}",
    "urgent: never deferred, planned past capacity": "urgent: wordt nooit uitgesteld, gepland boven de capaciteit",
    "fits this week's capacity in queue order": "past deze week in volgorde van de werkvoorraad",
    "the unit has no capacity for this work": "de eenheid heeft geen capaciteit voor dit werk",
    "capacity {capacity} h reached; {ahead} h queued ahead; reached in week +{week} at this capacity":
        "capaciteit {capacity} u bereikt; {ahead} u gaat voor; aan de beurt in week +{week} bij deze capaciteit",
    # subjects
    "No subject with id {id}.": "Geen subject met nummer {id}.",
    "merged into {id}": "samengevoegd met {id}",
    "Person {person}: {decision} (weight {weight}, model {version})":
        "Persoon {person}: {decision} (gewicht {weight}, model {version})",
    "linked": "gekoppeld",
    "History": "Geschiedenis",
    "What": "Wat",
    "Who": "Wie",
    "Why": "Waarom",
    "join": "samengevoegd bij koppelen",
    "merge": "samengevoegd",
    "split": "gesplitst",
    "reject": "afgewezen",
    "relink": "herkoppeld",
    "review": "ter beoordeling",
    "Person": "Persoon",
    "Level": "Niveau",
    "Weight": "Gewicht",
    "This report": "Deze melding",
    "Candidate": "Kandidaat",
    "Held back by: {guards}": "Tegengehouden door: {guards}",
    "{n} subjects found: {ids}": "{n} subjecten gevonden: {ids}",
    "No review with id {id}.": "Geen beoordeling met nummer {id}.",
    "Open reviews": "Open beoordelingen",
    "possible_match": "mogelijke match",
    "possible_same_subject": "mogelijk hetzelfde subject",
    "Done (operation {op}): subjects {subjects}; {n} reports queued for re-triage.":
        "Klaar (handeling {op}): subjecten {subjects}; {n} meldingen opnieuw in triage.",
    "Model {version} trained on {n} records and activated.": "Model {version} getraind op {n} records en in gebruik.",
    "Unknown engine {engine}.": "Onbekende engine {engine}.",
    "Too few records to train on ({n}; at least {needed} are needed): nothing was trained, model {version} "
    "stays in use.":
        "Te weinig records om op te trainen ({n}; er zijn er minstens {needed} nodig): er is niets getraind, "
        "model {version} blijft in gebruik.",
    "Training on {n} records failed ({error}): nothing changed, model {version} stays in use.":
        "Training op {n} records mislukt ({error}): er is niets veranderd, model {version} blijft in gebruik.",
    "No deterministic rule (same user id, mailbox, phone number or device) found a pair of records: the prior of "
    "the model in use is kept ({prior}).":
        "Geen vaste regel (zelfde gebruikers-id, mailbox, telefoonnummer of apparaat) vond een paar records: de "
        "a-priorikans van het model in gebruik blijft ({prior}).",
    "Training session blocked on {rule} skipped: no two records agree on it.":
        "Trainingsronde op {rule} overgeslagen: geen twee records komen daarop overeen.",
    "{n} m or u probabilities no pair of records reached were kept from the model in use: {levels}.":
        "{n} m- of u-kansen die geen paar records bereikte, komen uit het model in gebruik: {levels}.",
    "Changes against model {version}:": "Wijzigingen ten opzichte van model {version}:",
    "Prior (two random records are the same person): {before} → {after}":
        "A-priorikans (twee willekeurige records zijn dezelfde persoon): {before} → {after}",
    "Thresholds: link {link}, review {review}": "Drempels: koppelen {link}, beoordelen {review}",
    "m and u per comparison level": "m en u per vergelijkingsniveau",
    "{n} levels unchanged.": "{n} niveaus ongewijzigd.",
    "Relink run {id} ({status}): {clusters} clusters for {subjects} subjects; {joins} joins, {splits} splits, "
    "{moved} reported persons would move.":
        "Herkoppeling {id} ({status}): {clusters} clusters voor {subjects} subjecten; {joins} samenvoegingen, "
        "{splits} splitsingen, {moved} gemelde personen zouden verhuizen.",
    "applied": "toegepast",
    "discarded": "verworpen",
    # the store and the settings (exit 3)
    "No store at {where}. `tiptriage ingest` or `tiptriage db upgrade` creates one; check TIPTRIAGE_DATABASE_URL":
        "Geen opslag op {where}. `tiptriage ingest` of `tiptriage db upgrade` maakt die aan; controleer "
        "TIPTRIAGE_DATABASE_URL",
    "TIPTRIAGE_DATABASE_URL: '{scheme}' is not a database tiptriage knows; use sqlite:///PATH or "
    "postgresql://HOST/DATABASE":
        "TIPTRIAGE_DATABASE_URL: '{scheme}' is geen database die tiptriage kent; gebruik sqlite:///PAD of "
        "postgresql://HOST/DATABASE",
    "The database at {where} does not answer: {reason}": "De database op {where} antwoordt niet: {reason}",
    "The store at {where} has schema {found}, newer than this version of tiptriage knows ({head}): upgrade tiptriage":
        "De opslag op {where} heeft schema {found}, nieuwer dan deze versie van tiptriage kent ({head}): "
        "werk tiptriage bij",
    "Setting {name}: {value!r} cannot be used ({reason})": "Instelling {name}: {value!r} is niet bruikbaar ({reason})",
    "Store {where} at schema {head}": "Opslag {where} op schema {head}",
    "no subject {id}": "geen subject met nummer {id}",
    "no review {id}": "geen beoordeling met nummer {id}",
    "no proposed relink run {id}": "geen voorgestelde herkoppeling met nummer {id}",
    "report {id} has an open investigation ({investigations}): close it before a warning":
        "melding {id} heeft een lopend onderzoek ({investigations}): sluit dat vóór een waarschuwing",
    # who acts (accounts/actor.py)
    "'{raw}' is not a user id: letters a-z, digits, '.', '_' and '-' only (at most 64)":
        "'{raw}' is geen gebruikersnaam: alleen letters a-z, cijfers, '.', '_' en '-' (hoogstens 64)",
    "unknown role(s) {roles}; roles are {known}": "onbekende rol(len) {roles}; de rollen zijn {known}",
    "{actor} may not {action}: that needs the role {needed}": "{actor} mag niet {action}: daarvoor is de rol {needed} nodig",
    "{actor} may not {action} for unit {unit}: their units are {units}":
        "{actor} mag niet {action} voor eenheid {unit}: de eigen eenheden zijn {units}",
    "accounts file {path}: {error}": "accountbestand {path}: {error}",
    "accounts file {path}, account {n}: field 'id' is missing": "accountbestand {path}, account {n}: veld 'id' ontbreekt",
    "{id} has no account in {path}": "{id} heeft geen account in {path}",
    "First finished what an earlier, stopped run left: {n} reports matched and linked.":
        "Eerst afgemaakt wat een eerdere, afgebroken run liet liggen: {n} meldingen gematcht en gekoppeld.",
    "Reports an earlier, stopped run left, finished now": "Meldingen van een afgebroken eerdere run, nu afgemaakt",
    "Warning {id} is not approved: subjects {ids} distributed material (or held new material) and share something "
    "with this person. Check them with `tiptriage subjects show ID`; if one is this person, merge the subjects (a "
    "case, not a warning, follows); approve only with --acknowledge-earlier REASON.":
        "Waarschuwing {id} is niet goedgekeurd: subjecten {ids} verspreidden materiaal (of hadden nieuw materiaal) en "
        "delen iets met deze persoon. Bekijk ze met `tiptriage subjects show ID`; is een van hen deze persoon, voeg de "
        "subjecten dan samen (dan volgt een zaak, geen waarschuwing); keur alleen goed met --acknowledge-earlier REDEN.",
    "warning {id} was proposed by {actor}: a second person must approve it":
        "waarschuwing {id} is voorgesteld door {actor}: een tweede persoon moet die goedkeuren",
}


def lang() -> str:
    value = os.environ.get("TIPTRIAGE_LANG", "nl").lower()
    return "en" if value.startswith("en") else "nl"


def _(msgid: str, **values: object) -> str:
    text = NL.get(msgid, msgid) if lang() == "nl" else msgid
    return text.format(**values) if values else text


def refusal(kind: type[Exception], msgid: str, **values: object) -> Exception:
    """An error of `kind` that the user reads: its text is the English message, and it keeps the
    message id and values so the CLI can say it in the user's language (`message`)."""
    error = kind(msgid.format(**values))
    error.msgid, error.values = msgid, values
    return error


def message(error: BaseException) -> str:
    """An error's text in the user's language when it was made with `refusal`, else as it is."""
    msgid = getattr(error, "msgid", None)
    return _(msgid, **error.values) if msgid else str(error)


def number(value: int | float) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale="nl_NL" if lang() == "nl" else "en_GB")
