"""Possible earlier warnings: the registry's own check that nobody is warned twice.

Linkage does not link weak evidence on purpose, so a warned person reported again with a new
mailbox or account can become a new subject and be recommended a WARNING a second time. Before a
warning is proposed, shown or approved, the registry therefore looks, much looser than linkage, for
earlier warnings (any state) whose subject shares anything with the subject being warned: an
identifier, a public IP address, postcode + house number, or family name + birth year with a
compatible given name. It reads the keys and records linkage stored (`subject_keys`,
`subject_records`), so the values are normalised exactly as linkage normalised them. What it finds
is evidence for a person to weigh, never a link.
"""

from __future__ import annotations

import re
from collections import defaultdict

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from tiptriage.audit import service as audit
from tiptriage.db import chunks, utcnow
from tiptriage.i18n import N_
from tiptriage.registry.models import PoliceWarning, WarningReport
from tiptriage.registry.service import shown_state
from tiptriage.subjects import fastpath, membership, model_store
from tiptriage.subjects.features import FAMILY_KEY_PREFIX, IP_KEY_PREFIX
from tiptriage.subjects.models import SubjectKey, SubjectMember, SubjectRecord, SubjectTermCount

# Stored key prefix → the evidence field it stands for. `name_yob:` is family name (sound) + birth year.
KEY_FIELDS = {"email:": N_("email"), "phone:": N_("phone"), "uid:": N_("account"), "sn:": N_("screen_name"),
              "dev:": N_("device"), IP_KEY_PREFIX: N_("ip"), "name_yob:": N_("name_birth")}
ADDRESS_KEY = "addr:"  # addr:<postcode or city>|<street>|<number><addition>


def possible_earlier_warnings(session: Session, warning: PoliceWarning, *, actor: str,
                              purpose: str) -> list[dict]:
    """Earlier warnings whose subject shares anything with this warning's subject, each with its
    evidence. Searching personal data is a consultation on record (who, why, what was found)."""
    own = _subject_persons(session, warning.id)
    found = _evidence(session, own, _warned_persons(warning.id))
    docs = _docs(session, found)
    audit.consulted(session, actor=actor, action="warning.earlier_search", entity="warning",
                 entity_ids=[warning.id], reason=purpose,
                 details={"purpose": purpose, "persons": len(own), "found": [d["warning_id"] for d in docs]})
    return docs


def possible_distribution(session: Session, warning: PoliceWarning, distributing, *, actor: str,
                          purpose: str) -> list[dict]:
    """Other subjects that distributed (or held new material) in a report and share anything with
    this warning's subject, looser than linkage, each with its evidence: the person may have
    distributed in a report linkage did not join, and then no warning but a case is due.
    `distributing` is a subquery of (target_id: subject, person_id) — triage knows who distributed.
    A consultation on record."""
    own = _subject_persons(session, warning.id)
    mine = set(membership.subject_of_persons(session, own).values())
    found = {k: v for k, v in _evidence(session, own, distributing).items() if k not in mine}
    docs = _distribution_docs(session, found)
    audit.consulted(session, actor=actor, action="warning.distribution_search", entity="warning",
                 entity_ids=[warning.id], reason=purpose,
                 details={"purpose": purpose, "persons": len(own), "found": [d["subject_id"] for d in docs]})
    return docs


def _distribution_docs(session: Session, found: dict[int, list[tuple]]) -> list[dict]:
    evidence = _shown_evidence(session, found)
    return [{"subject_id": subject_id, "evidence": evidence[subject_id]} for subject_id in sorted(found)]


def _subject_persons(session: Session, warning_id: int) -> list[int]:
    """The reported persons of the subjects the warning was given for (as linkage holds them now)."""
    given, member = aliased(SubjectMember), aliased(SubjectMember)
    rows = session.execute(select(member.reported_person_id)
                           .join(given, (given.subject_id == member.subject_id) & given.until.is_(None))
                           .join(WarningReport, WarningReport.person_id == given.reported_person_id)
                           .where(WarningReport.warning_id == warning_id, member.until.is_(None)))
    return sorted(set(rows.scalars()))


def _warned_persons(before: int):
    """(warning, reported person) for every current member of a subject an earlier warning covers."""
    given, member = aliased(SubjectMember), aliased(SubjectMember)
    return (select(WarningReport.warning_id.label("target_id"), member.reported_person_id.label("person_id"))
            .join(given, (given.reported_person_id == WarningReport.person_id) & given.until.is_(None))
            .join(member, (member.subject_id == given.subject_id) & member.until.is_(None))
            .where(WarningReport.warning_id < before)).subquery()


def _keys(session: Session, persons: list[int]) -> dict[str, set[int]]:
    """Stored key → the persons carrying it, for the keys this check compares."""
    out: dict[str, set[int]] = defaultdict(set)
    for part in chunks(persons):
        for key, person in session.execute(select(SubjectKey.key, SubjectKey.reported_person_id)
                                           .where(SubjectKey.reported_person_id.in_(part))):
            if key.startswith((*KEY_FIELDS, ADDRESS_KEY)):
                out[key].add(person)
    return out


def _evidence(session: Session, own: list[int], warned) -> dict[int, list[tuple]]:
    """Target (an earlier warning, or a distributing subject) → (field, own person, its person, own
    key, its key) per shared value; `warned` is a subquery of (target_id, person_id)."""
    if not own:
        return {}
    probes = _without_shared_ips(session, _keys(session, own))
    hits = [*_exact_hits(session, warned, [k for k in probes if not k.startswith(ADDRESS_KEY)]),
            *_address_hits(session, warned, [k for k in probes if k.startswith(ADDRESS_KEY)])]
    records = _records(session, set(own) | {person for _, _, person in hits})
    found: dict[int, list[tuple]] = defaultdict(list)
    for warning_id, key, person in hits:
        own_key = key if key in probes else _same_address(key, probes)
        for mine in sorted(probes.get(own_key, ())):
            field = _field(key)
            if field == "name_birth" and not _given_compatible(records.get(mine), records.get(person)):
                continue
            found[warning_id].append((field, mine, person, own_key, key))
    for warning_id, mine, person, value in _name_hits(session, {p: records[p] for p in own if p in records}, warned):
        found[warning_id].append((N_("name"), mine, person, value, value))
    return found


# A family name carried by at most this share of all records is rare enough to flag on its own
# (with a compatible given name) when a side knows no birth year: "Ponci", not "de Vries".
RARE_FAMILY_SHARE = 0.001


def _name_hits(session: Session, mine: dict[int, dict], warned) -> list[tuple[int, int, int, str]]:
    """(warning, own person, earlier person, name) where the two *subjects* carry one name: a family
    name and a given name of the same initial, on any of their reports, and a birth year in common
    when both sides know one; when a side knows none, only for a rare family name. Per subject, not
    per report: one report may give the full name and another only the birth year."""
    names = _names(mine)
    if not names:
        return []
    families = sorted({FAMILY_KEY_PREFIX + family for family, _ in names})
    hit = {warning_id for warning_id, _, _ in _exact_hits(session, warned, families)}
    if not hit:
        return []
    pairs = session.execute(select(warned.c.target_id, warned.c.person_id)
                            .where(warned.c.target_id.in_(sorted(hit)))).all()
    records = _records(session, {person for _, person in pairs} - set(mine))
    by_warning: dict[int, dict[int, dict]] = defaultdict(dict)
    for warning_id, person in pairs:
        if person in records:
            by_warning[warning_id][person] = records[person]
    years, out = _years(mine.values()), []
    for warning_id, theirs in by_warning.items():
        their_names = _names(theirs)
        shared = set(names) & set(their_names)
        other_years = _years(theirs.values())
        if not shared:
            continue
        if years and other_years:
            if not years & other_years:
                continue
        elif not any(_rare(session, family, _carriers(family, mine, theirs)) for family, _ in shared):
            continue
        family, initial = min(shared)
        out.append((warning_id, names[(family, initial)], their_names[(family, initial)],
                    f"{initial.upper()}. {family}"))
    return out


def _names(records: dict[int, dict]) -> dict[tuple[str, str], int]:
    """(family name, given initial) → a person carrying it."""
    out = {}
    for person, rec in sorted(records.items()):
        if rec.get("family") and rec.get("given_initial"):
            out.setdefault((rec["family"], rec["given_initial"]), person)
    return out


def _years(records) -> set[int]:
    years = set()
    for rec in records:
        if rec.get("dob_lo") and rec.get("dob_hi"):
            first, last = int(rec["dob_lo"][:4]), int(rec["dob_hi"][:4])
            if last - first < 2:  # an age gives a range of two years at most; wider says nothing
                years.update(range(first, last + 1))
    return years


def _carriers(family: str, *sides: dict[int, dict]) -> int:
    return sum(rec.get("family") == family for side in sides for rec in side.values())


def _rare(session: Session, family: str, own: int) -> bool:
    """Whether hardly anyone but the two subjects (`own` of their records) carries the family name."""
    counts = dict(session.execute(select(SubjectTermCount.value, SubjectTermCount.n).where(
        SubjectTermCount.field == "family", SubjectTermCount.value.in_([family, fastpath.TOTAL]))).all())
    return counts.get(family, 0) - own <= RARE_FAMILY_SHARE * counts.get(fastpath.TOTAL, 0)


def _without_shared_ips(session: Session, probes: dict[str, set[int]]) -> dict[str, set[int]]:
    """An address seen with as many subjects as linkage's fan-out guard allows (a NAT, a campus, a
    café) is no evidence here either: it would flag every warned person who ever used it."""
    ips = {key.removeprefix(IP_KEY_PREFIX) for key in probes if key.startswith(IP_KEY_PREFIX)}
    shared = {IP_KEY_PREFIX + ip for ip in
              fastpath.shared_ips(session, model_store.active_model(session).max_ip_fanout, ips)}
    return {key: persons for key, persons in probes.items() if key not in shared}


def _exact_hits(session: Session, warned, keys: list[str]) -> list[tuple[int, str, int]]:
    out = []
    for part in chunks(sorted(keys)):
        out += session.execute(select(warned.c.target_id, SubjectKey.key, SubjectKey.reported_person_id)
                               .join(warned, warned.c.person_id == SubjectKey.reported_person_id)
                               .where(SubjectKey.key.in_(part))).all()
    return out


def _address_hits(session: Session, warned, keys: list[str]) -> list[tuple[int, str, int]]:
    """Addresses with the same postcode and house number, whatever the street's spelling or the
    addition (12 and 12-A): a postcode and a number name a Dutch address on their own."""
    wanted = {_postcode_number(k) for k in keys} - {None}
    if not wanted:
        return []
    prefixes = sorted({f"{ADDRESS_KEY}{postcode}|" for postcode, _ in wanted})
    rows = session.execute(select(warned.c.target_id, SubjectKey.key, SubjectKey.reported_person_id)
                           .join(warned, warned.c.person_id == SubjectKey.reported_person_id)
                           .where(or_(*(SubjectKey.key.startswith(p) for p in prefixes)))).all()
    return [row for row in rows if _postcode_number(row[1]) in wanted]


# Normalised postcodes are upper case (6211AB); a place without one is a folded, lower-case city.
_POSTCODE = re.compile(r"[A-Z0-9-]{2,12}")


def _postcode_number(key: str) -> tuple[str, str] | None:
    place, _, rest = key[len(ADDRESS_KEY):].partition("|")
    number = re.match(r"\d+", rest.rpartition("|")[2])
    if not _POSTCODE.fullmatch(place) or number is None:
        return None
    return place, number.group()


def _same_address(key: str, probes: dict[str, set[int]]) -> str:
    """The own address key an earlier one matched on postcode and house number."""
    wanted = _postcode_number(key)
    return next(k for k in sorted(probes) if k.startswith(ADDRESS_KEY) and _postcode_number(k) == wanted)


def _field(key: str) -> str:
    if key.startswith(ADDRESS_KEY):
        return "address"
    return next(field for prefix, field in KEY_FIELDS.items() if key.startswith(prefix))


def _given_compatible(a: dict | None, b: dict | None) -> bool:
    """Given names that may be one: the same baptismal initial (Kees and Cornelis, Jan and a typo'd Jna)."""
    return bool(a and b and a["given_initial"] and a["given_initial"] == b["given_initial"])


def _records(session: Session, persons: set[int]) -> dict[int, dict]:
    out = {}
    for part in chunks(sorted(persons)):
        out.update(session.execute(select(SubjectRecord.reported_person_id, SubjectRecord.features)
                                   .where(SubjectRecord.reported_person_id.in_(part))).all())
    return out


def _shown(field: str, key: str, rec: dict | None) -> str:
    """A shared value as people read it: the normalised identifier, an address, a name and birth."""
    if field == "address":
        return " ".join(part for part in key[len(ADDRESS_KEY):].split("|") if part)
    if field == "name" and rec:
        return f"{rec['given_word'] or rec['given_initial']} {rec['family']}"
    if field == "name_birth" and rec:
        born = rec["dob_lo"] if rec["dob_kind"] == "day" else rec["dob_lo"][:4]
        return f"{rec['given_word'] or rec['given_initial']} {rec['family']}, {born}"
    return key.split(":", 1)[1]


def _docs(session: Session, found: dict[int, list[tuple]]) -> list[dict]:
    if not found:
        return []
    warnings = session.execute(select(PoliceWarning).where(PoliceWarning.id.in_(sorted(found)))
                               .order_by(PoliceWarning.id)).scalars()
    evidence = _shown_evidence(session, found)
    today = utcnow().date()
    return [{"warning_id": w.id, "state": shown_state(w, today), "unit": w.unit, "subject_id": w.subject_id,
             "proposed_at": w.proposed_at, "delivered_on": w.delivered_on, "evidence": evidence[w.id]}
            for w in warnings]


def _shown_evidence(session: Session, found: dict[int, list[tuple]]) -> dict[int, list[dict]]:
    """Per target, the shared values as people read them: one row per shared value, however many
    reported persons on either side carry it."""
    records = _records(session, {p for ev in found.values() for _, mine, theirs, *_ in ev for p in (mine, theirs)})
    shown = {}
    for target, evidence in found.items():
        rows = sorted({(field, _shown(field, own_key, records.get(mine)), _shown(field, key, records.get(theirs)))
                       for field, mine, theirs, own_key, key in evidence})
        shown[target] = [{"field": f, "value": v, "earlier_value": e} for f, v, e in rows]
    return shown
