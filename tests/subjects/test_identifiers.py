"""Identifier normalisation: properties (Hypothesis) first, then one example per rule and the traps."""

from __future__ import annotations

import ipaddress
from datetime import UTC, date, datetime, timedelta, timezone

import phonenumbers
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from tiptriage.intake.domain import Address, Identifier, IpEvent, ReportedPerson
from tiptriage.subjects import identifiers as ids
from tiptriage.subjects.identifiers import (
    BirthAgreement, BirthDate, BirthPrecision, EmailAddress, EmailProvider, IpAgreement, IpClass, PhoneNumber,
    Rejected,
)
from . import strategies as gen

# ---------------------------------------------------------------------------------------------
# Properties: idempotence


@given(gen.any_text | st.emails())
def test_email_normalisation_is_idempotent(value):
    first = ids.normalise_email(value)
    assume(first is not None)
    assert ids.normalise_email(first) == first


@given(gen.any_text | gen.nl_mobile_subscribers.map(lambda s: "06" + s))
def test_phone_normalisation_is_idempotent(value):
    first = ids.normalise_phone(value)
    assume(first is not None)
    assert ids.normalise_phone(first) == first


@given(gen.any_text | st.from_regex(r"[1-9][0-9]{3} ?-?[a-zA-Z]{2}", fullmatch=True),
       st.sampled_from([None, "NL", "BE", "gb"]))
def test_postcode_normalisation_is_idempotent(value, country):
    first = ids.normalise_postcode(value, country)
    assume(first is not None)
    assert ids.normalise_postcode(first, country) == first


@given(gen.any_text | st.ip_addresses().map(str))
def test_ip_normalisation_is_idempotent(value):
    first = ids.normalise_ip(value)
    assume(first is not None)
    assert ids.normalise_ip(first) == first


@given(gen.any_text)
@example("00A´ß x")  # the acute composes with A only once the space is gone
def test_text_normalisers_are_idempotent(value):
    for normalise in (ids.fold, ids.normalise_account, ids.normalise_platform, ids.normalise_device_id):
        first = normalise(value)
        if first is not None:
            assert normalise(first) == first, normalise.__name__


@given(gen.any_text | gen.faker("street_address"))
def test_street_normalisation_is_idempotent(value):
    street, number, addition = ids.parse_street(value)
    assume(street is not None)
    rendered = " ".join(part for part in (street, number, addition) if part)
    assert ids.parse_street(rendered) == (street, number, addition)


@given(gen.any_text | gen.birth_dates.map(str)
       | st.from_regex(r"(19|20)[0-9]{2}(-[01][0-9])?", fullmatch=True))
def test_birth_date_round_trips_through_iso(value):
    parsed = ids.parse_birth_date(value)
    assume(parsed is not None)
    assert ids.parse_birth_date(parsed.iso()) == parsed


# ---------------------------------------------------------------------------------------------
# Properties: never raises on arbitrary input


@given(gen.any_text)
@example("x" * 1000)
def test_normalisers_never_raise_on_arbitrary_text(value):
    assert isinstance(ids.parse_email(value), EmailAddress | Rejected)
    assert isinstance(ids.parse_phone(value), PhoneNumber | Rejected)
    ids.normalise_postcode(value)
    ids.normalise_postcode(value, "DE")
    ids.parse_street(value)
    ids.parse_birth_date(value)
    ids.classify_ip(value)
    ids.parse_name(value, value)
    ids.canonical_given_name(value)
    ids.phonetic_key(value)


@given(st.one_of(st.none(), st.integers(), st.binary(), st.floats()))
def test_normalisers_reject_values_that_are_not_text(value):
    assert isinstance(ids.parse_email(value), Rejected)
    assert isinstance(ids.parse_phone(value), Rejected)
    assert ids.normalise_postcode(value) is None
    assert ids.normalise_ip(value) is None
    assert ids.normalise_device_id(value) is None


@given(gen.reported_persons(), st.none() | gen.utc_datetimes)
def test_normalise_person_never_raises_and_keys_are_well_formed(person, incident_at):
    normalised = ids.normalise_person(person, incident_at=incident_at, default_platform="Snapchat")
    prefixes = ("email:", "phone:", "uid:", "sn:", "dev:", "name_yob:", "pc_name:")
    assert all(key.startswith(prefixes) for key in ids.blocking_keys(normalised))
    assert normalised.verified <= ids.blocking_keys(normalised)


# ---------------------------------------------------------------------------------------------
# Properties: one identity written many ways gives one key


@st.composite
def gmail_variants(draw):
    local = draw(gen.gmail_locals)
    dots = draw(st.lists(st.booleans(), min_size=len(local) - 1, max_size=len(local) - 1)) + [False]
    dotted = "".join(c + ("." if dot else "") for c, dot in zip(local, dots, strict=True))
    cased = "".join(c.upper() if draw(st.booleans()) else c for c in dotted)
    tag = draw(st.sampled_from(["", "+spam", "+x.y", "+"]))
    domain = draw(st.sampled_from(["gmail.com", "GMail.com", "googlemail.com", "GOOGLEMAIL.COM"]))
    return local, f"{cased}{tag}@{domain}"


@given(gmail_variants())
def test_gmail_variants_share_one_mailbox(case):
    local, variant = case
    assert ids.normalise_email(variant) == f"{local}@gmail.com"


@st.composite
def nl_phone_formats(draw):
    subscriber = draw(gen.nl_mobile_subscribers)
    blocks = " ".join(subscriber[i:i + 2] for i in range(0, 8, 2))
    spelling = draw(st.sampled_from([
        f"+31 6 {subscriber[:4]} {subscriber[4:]}", f"06-{subscriber}", f"00316{subscriber}",
        f"(06) {blocks}", f"+31 (0)6 {subscriber}", f"+316{subscriber}", f" 06 {blocks} ",
    ]))
    return f"+316{subscriber}", spelling


@given(nl_phone_formats())
def test_formats_of_one_dutch_number_give_one_e164(case):
    e164, spelling = case
    assert ids.normalise_phone(spelling) == e164


@given(gen.foreign_numbers, st.sampled_from(["international", "e164", "dialled_from_nl", "rfc3966"]))
def test_foreign_numbers_keep_their_country(number, style):
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    written = {
        "international": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        "e164": e164,
        "dialled_from_nl": "00" + e164[1:],
        "rfc3966": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.RFC3966),
    }[style]
    parsed = ids.parse_phone(written)
    assert isinstance(parsed, PhoneNumber)
    assert parsed.e164 == e164 and not parsed.e164.startswith("+31")


@given(gen.given_names, gen.family_names)
def test_name_key_survives_swapped_fields_and_case(given_name, family_name):
    key = ids.name_key(given_name, family_name)
    assert key
    assert ids.name_key(family_name, given_name) == key
    assert ids.name_key(given_name.upper(), family_name.lower()) == key


@given(st.data(), gen.given_names, gen.family_names)
def test_name_key_survives_diacritics(data, given_name, family_name):
    accented_given = data.draw(gen.accented(given_name))
    accented_family = data.draw(gen.accented(family_name))
    assert ids.name_key(accented_given, accented_family) == ids.name_key(given_name, family_name)
    assert ids.parse_name(accented_given, accented_family).family_phonetic == \
        ids.parse_name(given_name, family_name).family_phonetic


@given(st.data(), gen.given_names, st.sampled_from(sorted(gen.PARTICLE_SPELLINGS)), gen.family_cores)
def test_tussenvoegsel_spellings_normalise_alike(data, given_name, particle, core):
    reference = ids.parse_name(given_name, f"{particle} {core}")
    spelled = data.draw(gen.spelled_family(particle, core))
    variant = ids.parse_name(given_name, spelled)
    assert variant.family_core == reference.family_core == ids.fold(core)
    assert variant.particle_key == reference.particle_key
    assert variant.key == reference.key
    assert ids.name_key(spelled, given_name) == reference.key


@given(gen.birth_dates, st.integers(0, 100 * 366))
def test_birth_range_from_age_contains_the_true_birth_date(born, days_later):
    at = born + timedelta(days=days_later)
    # The age a person states: whole years completed, counted independently of the code under test.
    age = at.year - born.year - ((at.month, at.day) < (born.month, born.day))
    birth = ids.birth_range_from_age(age, at)
    assert birth.earliest <= born <= birth.latest
    assert born.year in birth.years
    assert ids.compare_birth(birth, ids.parse_birth_date(born)) is BirthAgreement.WITHIN_RANGE


@given(gen.birth_dates, gen.birth_dates)
def test_birth_comparison_is_symmetric(a, b):
    for x, y in ((a, b), (a.isoformat()[:4], b), (a.isoformat()[:7], b.isoformat()[:4])):
        first, second = ids.parse_birth_date(x), ids.parse_birth_date(y)
        assert ids.compare_birth(first, second) == ids.compare_birth(second, first)


# ---------------------------------------------------------------------------------------------
# E-mail examples


@pytest.mark.parametrize(("value", "expected"), [
    ("J.Jansen+meldingen@GMail.com", "jjansen@gmail.com"),
    ("j.jansen@googlemail.com", "jjansen@gmail.com"),
    ("Piet.de.Vries+tag@Hotmail.com", "piet.de.vries@hotmail.com"),
    ("piet.devries+x@outlook.com", "piet.devries@outlook.com"),
    ("Sanne+x@live.nl", "sanne@live.nl"),
    ("Sanne.Bakker+x@ziggo.nl", "sanne.bakker+x@ziggo.nl"),
    ("  ＪＡＮ@Example.NL ", "jan@example.nl"),
    ("ZOË@example.nl", "zoë@example.nl"),
])
def test_email_provider_rules(value, expected):
    assert ids.normalise_email(value) == expected


def test_email_domain_is_returned_separately_and_aliases_are_resolved():
    parsed = ids.parse_email("Fleur.Smit+x@googlemail.com")
    assert parsed == EmailAddress("fleursmit@gmail.com", "fleursmit", "gmail.com", "google")
    assert ids.parse_email("fleur@hotmail.com").domain == "hotmail.com"
    # Microsoft's domains are separate mailboxes: never folded together.
    assert ids.normalise_email("fleur@hotmail.com") != ids.normalise_email("fleur@outlook.com")


def test_email_provider_rules_are_configurable():
    providers = {"voorbeeld.nl": EmailProvider("voorbeeld", None, ignore_dots=False, tag_separator="-")}
    parsed = ids.parse_email("Daan.Visser-nieuwsbrief@voorbeeld.nl", providers=providers)
    assert parsed.address == "daan.visser@voorbeeld.nl"
    # Without the configuration the tag is part of the mailbox.
    unconfigured = ids.normalise_email("Daan.Visser-nieuwsbrief@voorbeeld.nl")
    assert unconfigured == "daan.visser-nieuwsbrief@voorbeeld.nl"


def test_email_providers_can_be_built_from_a_replacement_table():
    table = {"providers": [{"name": "p", "domains": ["a.nl", "b.nl"], "canonical_domain": "a.nl",
                            "ignore_dots": True, "tag_separator": None}]}
    assert ids.parse_email("x.y+z@b.nl", providers=ids.email_providers(table)).address == "xy+z@a.nl"


@pytest.mark.parametrize(("value", "reason"), [
    ("geen-adres", "@-sign"),
    ("jan@localhost", "period"),
    ("jan de jong@example.nl", ""),
    ("+nieuwsbrief@gmail.com", "nothing left"),
    ("", "empty"),
])
def test_invalid_email_gives_none_and_a_reason(value, reason):
    parsed = ids.parse_email(value)
    assert isinstance(parsed, Rejected) and parsed.kind == "email"
    assert reason in parsed.reason and parsed.reason
    assert ids.normalise_email(value) is None


# ---------------------------------------------------------------------------------------------
# Phone examples


@pytest.mark.parametrize("value", ["+31 6 1234 5678", "06-12345678", "0031612345678", "(06) 12 34 56 78"])
def test_dutch_phone_formats(value):
    assert ids.normalise_phone(value) == "+31612345678"


def test_foreign_phone_keeps_its_country():
    parsed = ids.parse_phone("+49 30 12345678")
    assert parsed == PhoneNumber("+493012345678", "DE")
    assert ids.normalise_phone("0032 2 555 12 12") == "+3225551212"


@pytest.mark.parametrize("value", ["12", "06-1234", "geen nummer", "+31 6 1234 56789 0", "+999 123"])
def test_invalid_phone_gives_none(value):
    assert ids.normalise_phone(value) is None
    assert isinstance(ids.parse_phone(value), Rejected)


def test_national_numbers_follow_the_configured_region():
    assert ids.normalise_phone("030 1234567", region="DE") == "+49301234567"
    assert ids.normalise_phone("030 1234567") == "+31301234567"


# ---------------------------------------------------------------------------------------------
# Name examples


@pytest.mark.parametrize(("text", "expected"), [
    ("Émile", "emile"), ("Jörg", "jorg"), ("Straße", "strasse"), ("ĲSSELSTEIN", "ijsselstein"),
    ("IJsbrand", "ijsbrand"), ("Søren", "soren"), ("Zoë", "zoe"), ("Çelik", "celik"),
])
def test_fold(text, expected):
    assert ids.fold(text) == expected


@pytest.mark.parametrize("family", ["van der Berg", "Berg, van der", "V.d. Berg", "vd Berg", "VAN DER BERG",
                                    "v/d Berg"])
def test_tussenvoegsel_spellings(family):
    name = ids.parse_name("Jan", family)
    assert (name.family_core, name.particle_key, name.key) == ("berg", "vd", "berg jan")


def test_particles_are_split_only_before_a_surname_word():
    assert ids.parse_name(None, "Van").family_core == "van"
    assert ids.parse_name(None, "Jansen-de Vries").family_core == "jansen vries"
    assert ids.parse_name(None, "in 't Veld").particle_key == ids.parse_name(None, "in het Veld").particle_key
    assert ids.parse_name(None, "ter Horst").particles == ("ter",)
    assert ids.parse_name(None, "de Jong").family_core != ids.parse_name(None, "de Groot").family_core


@pytest.mark.parametrize(("given_name", "initials", "names"), [
    ("J.P.", "jp", ()), ("Jan Peter", "jp", ("jan", "peter")), ("Jan-Peter", "jp", ("jan", "peter")),
    ("IJsbrand", "ij", ("ijsbrand",)), ("IJ.", "ij", ()), ("Anna M.", "am", ("anna",)),
])
def test_given_initials(given_name, initials, names):
    name = ids.parse_name(given_name, "Visser")
    assert (name.given_initials, name.given_names) == (initials, names)


def test_name_key_is_order_free_but_keeps_different_people_apart():
    assert ids.name_key("Jan", "de Jong") == ids.name_key("de Jong", "Jan") == "jan jong"
    assert ids.name_key("Jan", "de Jong") != ids.name_key("Piet", "de Jong")
    assert ids.name_key("J.", "de Jong") != ids.name_key("P.", "de Jong")


@pytest.mark.parametrize("group", [
    ("Meijer", "Meyer", "Meier"), ("Dijk", "Dyk", "Dijck"), ("Smit", "Smid", "Schmidt"),
    ("Thijssen", "Tijssen"), ("Hendriks", "Hendrix"), ("Berg", "Bergh"), ("de Vries", "de Fries"),
    ("Jansen", "Janssen"), ("Bakker", "Backer"),
])
def test_phonetic_key_hears_dutch_spelling_variants_alike(group):
    assert len({ids.parse_name(None, family).family_phonetic for family in group}) == 1


def test_phonetic_key_keeps_different_names_apart():
    families = ("Jansen", "Bakker", "Visser", "de Jong", "Mulder")
    codes = {ids.parse_name(None, family).family_phonetic for family in families}
    assert len(codes) == 5


@pytest.mark.parametrize(("short", "canonical"), [
    ("Jan", "johannes"), ("Hans", "johannes"), ("Johan", "johannes"), ("Kees", "cornelis"),
    ("Jaap", "jacobus"), ("Koos", "jacobus"), ("Henk", "hendrik"), ("Wim", "wilhelmus"), ("Piet", "petrus"),
    ("Peter", "petrus"), ("Theo", "theodorus"), ("Mia", "maria"), ("Marieke", "maria"),
    ("Karin", "catharina"),
    ("Trijntje", "catharina"), ("Johannes", "johannes"), ("Sem", "sem"), ("Zoë", "zoe"),
])
def test_canonical_given_name(short, canonical):
    assert ids.canonical_given_name(short) == canonical


def test_ambiguous_short_forms_name_every_candidate_and_guess_none():
    assert ids.canonical_given_names("Jo") == {"johannes", "johanna", "josephus"}
    assert ids.canonical_given_name("Jo") == "jo"
    assert ids.canonical_given_names("Ria") == {"maria", "adriana"}
    assert ids.canonical_given_names("Ruud") & ids.canonical_given_names("Rudolf")
    assert ids.canonical_given_names("Anneke") & ids.canonical_given_names("Johanna")


def test_empty_name_gives_none():
    assert ids.parse_name(None, None) is None
    assert ids.parse_name(" ", "-") is None


# ---------------------------------------------------------------------------------------------
# Date of birth examples


def test_age_at_incident_gives_the_birth_range():
    birth = ids.birth_range_from_age(15, date(2023, 5, 1))
    assert (birth.earliest, birth.latest) == (date(2007, 5, 2), date(2008, 5, 1))
    assert birth.iso() == "2007-05-02/2008-05-01"
    assert ids.birth_range_from_age(15, datetime(2023, 5, 1, 23, 0, tzinfo=UTC)) == birth


def test_age_on_29_february():
    birth = ids.birth_range_from_age(15, date(2024, 2, 29))
    assert (birth.earliest, birth.latest) == (date(2008, 3, 1), date(2009, 2, 28))


@pytest.mark.parametrize(("age", "at"), [(None, date(2023, 1, 1)), (15, None), (-1, date(2023, 1, 1)),
                                         (121, date(2023, 1, 1))])
def test_age_without_moment_or_impossible_gives_none(age, at):
    assert ids.birth_range_from_age(age, at) is None


@pytest.mark.parametrize(("value", "precision", "earliest", "latest"), [
    ("1990-05-03", BirthPrecision.DAY, date(1990, 5, 3), date(1990, 5, 3)),
    ("1990-02", BirthPrecision.MONTH, date(1990, 2, 1), date(1990, 2, 28)),
    ("1992-02", BirthPrecision.MONTH, date(1992, 2, 1), date(1992, 2, 29)),
    ("1990-12", BirthPrecision.MONTH, date(1990, 12, 1), date(1990, 12, 31)),
    ("1990", BirthPrecision.YEAR, date(1990, 1, 1), date(1990, 12, 31)),
    (date(1990, 5, 3), BirthPrecision.DAY, date(1990, 5, 3), date(1990, 5, 3)),
])
def test_partial_birth_dates(value, precision, earliest, latest):
    assert ids.parse_birth_date(value) == BirthDate(earliest, latest, precision)


@pytest.mark.parametrize("value", ["1990-13", "1990-02-30", "03-05-1990", "1850", "",
                                   "2008-05-01/2007-05-02"])
def test_invalid_birth_dates_give_none(value):
    assert ids.parse_birth_date(value) is None


@pytest.mark.parametrize(("a", "b", "level"), [
    ("1990-05-03", "1990-05-03", BirthAgreement.EXACT),
    ("1990-03-05", "1990-05-03", BirthAgreement.TRANSPOSED),
    ("1990-05-03", "1990-05-09", BirthAgreement.YEAR_ONLY),
    ("1990", "1990-05-03", BirthAgreement.YEAR_ONLY),
    ("1990-05", "1990-07-01", BirthAgreement.YEAR_ONLY),
    ("2007-05-02/2008-05-01", "2008-01-20", BirthAgreement.WITHIN_RANGE),
    ("2007-05-02/2008-05-01", "2007", BirthAgreement.WITHIN_RANGE),
    ("2007-05-02/2008-05-01", "2008-05-02", BirthAgreement.CONFLICT),
    ("1990-05-03", "1991-05-03", BirthAgreement.CONFLICT),
    ("1990-03-05", "1991-05-03", BirthAgreement.CONFLICT),
    ("1990", "1991", BirthAgreement.CONFLICT),
    ("1990", None, BirthAgreement.UNKNOWN),
])
def test_birth_comparison_levels(a, b, level):
    assert ids.compare_birth(ids.parse_birth_date(a), ids.parse_birth_date(b)) is level


# ---------------------------------------------------------------------------------------------
# Postcode and address examples


@pytest.mark.parametrize("value", ["1234ab", "1234 AB", "1234-AB", " 1234  ab ", "１２３４ＡＢ"])
def test_dutch_postcodes(value):
    assert ids.normalise_postcode(value) == "1234AB"
    assert ids.postcode_area(ids.normalise_postcode(value)) == "1234"


@pytest.mark.parametrize("value", ["0123AB", "1234SS", "1234SA", "12345", "1234 A", "AB1234", "1234ABC"])
def test_invalid_dutch_postcodes_give_none(value):
    assert ids.normalise_postcode(value) is None
    assert ids.normalise_postcode(value, "NL") is None


def test_foreign_postcodes_are_kept_upper_case_without_spaces():
    assert ids.normalise_postcode("sw1a 1aa", "GB") == "SW1A1AA"
    assert ids.normalise_postcode("1000", "be") == "1000"
    assert ids.normalise_postcode("D-10115", "DE") == "D-10115"
    assert ids.postcode_area("SW1A1AA") is None


@pytest.mark.parametrize("street", ["Dorpsstraat 12-a", "dorpsstr. 12A", "DORPSSTRAAT 12 a", "Dorpsstr 012a"])
def test_street_and_house_number(street):
    assert ids.parse_street(street) == ("dorpsstraat", "12", "a")


@pytest.mark.parametrize(("street", "expected"), [
    ("1e Oosterparkstraat 3 hs", ("1e oosterparkstraat", "3", "hs")),
    ("Burg. de Withstraat 7-II", ("burgemeester de withstraat", "7", "ii")),
    ("Kerkplein", ("kerkplein", None, None)),
    ("Lange Nieuwstraat 12 3 hoog", ("lange nieuwstraat", "12", "3hoog")),
])
def test_street_forms(street, expected):
    assert ids.parse_street(street) == expected


def test_addresses_written_differently_share_one_key():
    a = ids.normalise_address(Address("Dorpsstraat 12-a", "1234 ab", "'s-Hertogenbosch", "nl"))
    b = ids.normalise_address(Address("dorpsstr. 12A", "1234AB", "'S-HERTOGENBOSCH", None))
    assert a.key == b.key == "1234AB|dorpsstraat|12a"
    assert (a.city, a.country, b.country) == ("s hertogenbosch", "NL", None)
    assert ids.normalise_address(Address()) is None


# ---------------------------------------------------------------------------------------------
# IP examples

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
# An invented shared range, as an administrator would configure a university's NAT.
CAMPUS = ids.shared_ranges(["145.97.0.0/16"])


def sighting(ip: str, at: datetime | None = T0, shared=CAMPUS) -> ids.IpSighting:
    return ids.ip_sighting(IpEvent(ip, "Login", at), shared=shared)


@pytest.mark.parametrize(("value", "expected"), [
    ("::ffff:192.0.2.10", "192.0.2.10"), ("2001:DB8:0:0::1", "2001:db8::1"), (" 8.8.4.4 ", "8.8.4.4"),
    ("[2001:db8::1]", "2001:db8::1"), ("999.1.1.1", None), ("010.1.1.1", None), ("", None),
])
def test_ip_canonical_form(value, expected):
    assert ids.normalise_ip(value) == expected


@pytest.mark.parametrize(("ip", "kind"), [
    ("100.64.12.1", IpClass.CGNAT), ("100.127.255.254", IpClass.CGNAT), ("10.1.2.3", IpClass.PRIVATE),
    ("192.168.1.1", IpClass.PRIVATE), ("127.0.0.1", IpClass.PRIVATE), ("fe80::1", IpClass.PRIVATE),
    ("224.0.0.1", IpClass.PRIVATE), ("145.97.3.4", IpClass.SHARED), ("::ffff:145.97.3.4", IpClass.SHARED),
    ("84.80.1.2", IpClass.PUBLIC), ("2a02:a000::1", IpClass.PUBLIC), ("geen ip", None),
])
def test_ip_classification(ip, kind):
    assert ids.classify_ip(ip, shared=CAMPUS) == kind


def test_shared_ranges_default_to_the_packaged_table_and_can_be_replaced():
    packaged = ids.load_table("shared_ip_ranges")["ranges"]
    assert ids.shared_ranges() == tuple(ipaddress.ip_network(entry["cidr"]) for entry in packaged)
    reported = person(ip_events=(IpEvent("145.97.3.4", "Login", T0),))
    assert ids.normalise_person(reported, shared=CAMPUS).ip_sightings[0].ip_class is IpClass.SHARED
    assert ids.normalise_person(reported, shared=()).ip_sightings[0].ip_class is IpClass.PUBLIC


@pytest.mark.parametrize(("a", "b", "level"), [
    (sighting("84.80.1.2"), sighting("84.80.1.2", T0 + timedelta(minutes=30)), IpAgreement.CLOSE),
    (sighting("84.80.1.2"), sighting("84.80.1.2", T0 - timedelta(hours=20)), IpAgreement.WITHIN_WINDOW),
    (sighting("84.80.1.2"), sighting("84.80.1.2", T0 + timedelta(days=3)), IpAgreement.OUTSIDE_WINDOW),
    (sighting("84.80.1.2"), sighting("84.80.1.2", None), IpAgreement.NO_TIME),
    (sighting("84.80.1.2"), sighting("84.80.1.3"), IpAgreement.DIFFERENT),
    (sighting("100.64.0.7"), sighting("100.64.0.7"), IpAgreement.SHARED_RANGE),
    (sighting("145.97.3.4"), sighting("145.97.3.4"), IpAgreement.SHARED_RANGE),
    (sighting("192.168.1.10"), sighting("192.168.1.10"), IpAgreement.SHARED_RANGE),
    (sighting("::ffff:84.80.1.2"), sighting("84.80.1.2"), IpAgreement.CLOSE),
])
def test_ip_agreement_levels(a, b, level):
    assert ids.ip_agreement(a, b) is level
    assert ids.ip_agreement(b, a) is level
    assert level.counts == (level in (IpAgreement.CLOSE, IpAgreement.WITHIN_WINDOW))


def test_ip_agreement_compares_moments_across_time_zones_and_naive_times_as_utc():
    amsterdam = timezone(timedelta(hours=1))
    local = sighting("84.80.1.2", datetime(2024, 3, 1, 13, 30, tzinfo=amsterdam))
    naive = sighting("84.80.1.2", datetime(2024, 3, 1, 12, 0))
    assert ids.ip_agreement(local, naive) is IpAgreement.CLOSE


def test_ip_agreement_window_is_configurable():
    a, b = sighting("84.80.1.2"), sighting("84.80.1.2", T0 + timedelta(hours=30))
    assert ids.ip_agreement(a, b) is IpAgreement.OUTSIDE_WINDOW
    assert ids.ip_agreement(a, b, window=timedelta(hours=48)) is IpAgreement.WITHIN_WINDOW


def test_best_ip_agreement_takes_the_strongest_pair():
    a = [sighting("84.80.1.2"), sighting("100.64.0.7")]
    b = [sighting("84.80.1.2", T0 + timedelta(days=5)), sighting("100.64.0.7"), sighting("84.80.9.9")]
    assert ids.best_ip_agreement(a, b) is IpAgreement.OUTSIDE_WINDOW
    later = [sighting("84.80.1.2", T0 + timedelta(hours=2))]
    assert ids.best_ip_agreement(a, later) is IpAgreement.WITHIN_WINDOW
    assert ids.best_ip_agreement(a, [sighting("1.1.1.1")]) is IpAgreement.DIFFERENT
    assert ids.best_ip_agreement(a, []) is IpAgreement.UNKNOWN


def test_cgnat_ips_give_no_agreement_even_at_the_same_moment():
    a, b = [sighting("100.64.0.7")], [sighting("100.64.0.7")]
    level = ids.best_ip_agreement(a, b)
    assert level is IpAgreement.SHARED_RANGE and not level.counts


# ---------------------------------------------------------------------------------------------
# Platform ids, screen names and devices


@pytest.mark.parametrize(("value", "expected"), [
    ("@Jan_de_Jong", "jan_de_jong"), (" @@Sanne.B ", "sanne.b"), ("ＪＡＮ123", "jan123"), ("@", None),
])
def test_account_normalisation(value, expected):
    assert ids.normalise_account(value) == expected


@pytest.mark.parametrize(("value", "expected"), [("Snapchat", "snapchat"), (" SNAPCHAT ", "snapchat"),
                                                 ("Snap Inc.", "snapinc"), ("", None)])
def test_platform_normalisation(value, expected):
    assert ids.normalise_platform(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("aa:bb:cc:dd:ee:ff", "AABBCCDDEEFF"),
    ("6f1c2a4e-9b3d-4c1e-8f2a-0d9e7b6c5a41", "6F1C2A4E9B3D4C1E8F2A0D9E7B6C5A41"),
    ("00000000-0000-0000-0000-000000000000", None), ("ab-12", None), ("", None),
])
def test_device_id_normalisation(value, expected):
    assert ids.normalise_device_id(value) == expected


# ---------------------------------------------------------------------------------------------
# normalise_person and blocking keys


def person(ref="p1", **fields) -> ReportedPerson:
    return ReportedPerson(ref=ref, **fields)


def test_normalise_person_collects_every_identifier_and_says_what_it_refused():
    reported = person(
        given_name="Jan", family_name="Berg, van der", date_of_birth=date(1988, 4, 2),
        identifiers=(
            Identifier("email", "J.vanderBerg+tips@googlemail.com", verified=True),
            Identifier("email", "niet-geldig"),
            Identifier("phone", "06-12345678", verified=False),
            Identifier("esp_user_id", "88412345", platform="Snapchat"),
            Identifier("screen_name", "@JanB88"),
            Identifier("device_id", "aa:bb:cc:dd:ee:ff"),
        ),
        addresses=(Address("Dorpsstraat 12-a", "1234 ab", "Utrecht", "NL"),),
        ip_events=(IpEvent("84.80.1.2", "Login", T0), IpEvent("geen-ip", "Other")),
    )
    n = ids.normalise_person(reported, default_platform="snapchat")
    assert n.name.key == "berg jan" and n.birth.iso() == "1988-04-02"
    assert {e.address for e in n.emails} == {"jvanderberg@gmail.com"}
    assert {p.e164 for p in n.phones} == {"+31612345678"}
    assert n.accounts == {ids.PlatformId("snapchat", "88412345")}
    assert n.screen_names == {ids.PlatformId("snapchat", "janb88")}
    assert n.devices == {"AABBCCDDEEFF"}
    assert [s.ip for s in n.ip_sightings] == ["84.80.1.2"]
    assert {r.kind for r in n.rejected} == {"email", "ip"}
    assert n.verified == {"email:jvanderberg@gmail.com"}
    assert ids.blocking_keys(n) == {
        "email:jvanderberg@gmail.com", "phone:+31612345678", "uid:snapchat:88412345", "sn:snapchat:janb88",
        "dev:AABBCCDDEEFF", "name_yob:BRK:1988", "pc_name:1234AB:berg",
    }


def test_age_at_incident_gives_name_keys_for_both_possible_years():
    reported = person(given_name="Sem", family_name="de Vries", age=15)
    n = ids.normalise_person(reported, incident_at=date(2023, 5, 1))
    assert n.birth.precision is BirthPrecision.RANGE
    assert ids.blocking_keys(n) == {"name_yob:FRS:2007", "name_yob:FRS:2008"}
    assert ids.normalise_person(reported).birth is None


def test_placeholder_birth_date_is_unknown_and_recorded():
    n = ids.normalise_person(person(family_name="Jansen", date_of_birth=date(1900, 1, 1)))
    assert n.birth is None
    assert [r.reason for r in n.rejected] == ["a system placeholder date"]
    assert ids.blocking_keys(n) == set()


def test_surnames_without_a_sound_code_are_blocked_on_their_spelling():
    n = ids.normalise_person(person(given_name="Олег", family_name="Петров", date_of_birth=date(1985, 6, 1)))
    assert n.name.family_phonetic == ""
    assert ids.blocking_keys(n) == {"name_yob:петров:1985"}


def test_user_ids_without_a_platform_are_kept_but_not_indexed():
    n = ids.normalise_person(person(identifiers=(Identifier("screen_name", "jan123"),)))
    assert n.screen_names == {ids.PlatformId(None, "jan123")}
    assert ids.blocking_keys(n) == set()


def test_a_bare_ip_address_gives_no_blocking_key():
    n = ids.normalise_person(person(ip_events=(IpEvent("84.80.1.2", "Login", T0),)))
    assert n.ip_sightings and ids.blocking_keys(n) == set()


def test_user_ids_are_scoped_to_their_platform():
    a = ids.normalise_person(person(identifiers=(Identifier("esp_user_id", "1001", platform="Discord"),)))
    b = ids.normalise_person(person(identifiers=(Identifier("esp_user_id", "1001", platform="Roblox"),)))
    assert not ids.blocking_keys(a) & ids.blocking_keys(b)


def test_two_different_jan_de_jongs_born_the_same_year_share_only_the_name_year_key():
    first = person("p1", given_name="Jan", family_name="de Jong", date_of_birth=date(1990, 3, 14),
                   identifiers=(Identifier("email", "jan.dejong@gmail.com"),
                                Identifier("phone", "06-11112222")),
                   addresses=(Address("Kerkstraat 1", "1011AB", "Amsterdam"),),
                   ip_events=(IpEvent("100.64.0.7", "Login", T0),))
    second = person("p2", given_name="Jan", family_name="de Jong", date_of_birth=date(1990, 11, 2),
                    identifiers=(Identifier("email", "jdejong90@hotmail.com"),
                                 Identifier("phone", "06-33334444")),
                    addresses=(Address("Stationsweg 8", "9711AA", "Groningen"),),
                    ip_events=(IpEvent("100.64.0.7", "Login", T0),))
    a, b = ids.normalise_person(first), ids.normalise_person(second)
    assert ids.blocking_keys(a) & ids.blocking_keys(b) == {"name_yob:JNK:1990"}
    assert ids.compare_birth(a.birth, b.birth) is BirthAgreement.YEAR_ONLY
    # Same CGNAT address at the same moment: no evidence at all.
    assert not ids.best_ip_agreement(a.ip_sightings, b.ip_sightings).counts


def test_the_same_person_reported_twice_shares_identifier_keys():
    first = person(given_name="Jan", family_name="van der Berg",
                   identifiers=(Identifier("email", "j.vanderberg@gmail.com"),
                                Identifier("phone", "+31 6 1234 5678")))
    second = person(given_name="JAN", family_name="Berg, v.d.",
                    identifiers=(Identifier("email", "JVanDerBerg+x@googlemail.com"),
                                 Identifier("phone", "0612345678")))
    shared = ids.blocking_keys(ids.normalise_person(first)) & ids.blocking_keys(ids.normalise_person(second))
    assert shared == {"email:jvanderberg@gmail.com", "phone:+31612345678"}
