"""Fixed tables the synthetic world is built from: places, units, platforms, name forms, IP blocks.

Everything here is invented for the synthetic world or is common public knowledge (Dutch city
names and their postcode areas, nicknames of Dutch formal first names). Platform names are
fictional. IP blocks are the synthetic world's allocation, published in truth.json so that an
evaluation can map an address to a country; they make no claim about real allocations.
"""

from __future__ import annotations

from datetime import date

# Incidents happen in this fixed period, so a seed yields the same bytes on every day.
PERIOD_START = date(2022, 1, 1)
PERIOD_END = date(2024, 6, 30)

# Mondays of the national action weeks in which warnings are delivered (two rounds a year).
ACTION_WEEKS = (date(2022, 3, 14), date(2022, 11, 14), date(2023, 3, 13), date(2023, 11, 13),
                date(2024, 3, 11), date(2024, 11, 11), date(2025, 3, 10))

# (city, lowest and highest postcode digits, regional unit, relative weight by population)
CITIES = (
    ("Amsterdam", 1011, 1109, "Amsterdam", 90), ("Haarlem", 2011, 2037, "Noord-Holland", 16),
    ("Zaandam", 1501, 1509, "Noord-Holland", 8), ("Alkmaar", 1811, 1827, "Noord-Holland", 10),
    ("Hilversum", 1211, 1223, "Midden-Nederland", 9), ("Almere", 1311, 1363, "Midden-Nederland", 21),
    ("Utrecht", 3511, 3585, "Midden-Nederland", 36), ("Amersfoort", 3811, 3829, "Midden-Nederland", 16),
    ("Den Haag", 2491, 2599, "Den Haag", 55), ("Leiden", 2311, 2334, "Den Haag", 13),
    ("Delft", 2611, 2629, "Den Haag", 10), ("Zoetermeer", 2711, 2729, "Den Haag", 13),
    ("Rotterdam", 3011, 3089, "Rotterdam", 65), ("Dordrecht", 3311, 3329, "Rotterdam", 12),
    ("Schiedam", 3111, 3125, "Rotterdam", 8), ("Breda", 4811, 4839, "Zeeland-West-Brabant", 18),
    ("Tilburg", 5011, 5049, "Zeeland-West-Brabant", 22), ("Middelburg", 4331, 4339, "Zeeland-West-Brabant", 5),
    ("Eindhoven", 5611, 5658, "Oost-Brabant", 24), ("'s-Hertogenbosch", 5211, 5237, "Oost-Brabant", 16),
    ("Helmond", 5701, 5709, "Oost-Brabant", 9), ("Maastricht", 6211, 6229, "Limburg", 12),
    ("Venlo", 5911, 5928, "Limburg", 10), ("Heerlen", 6411, 6422, "Limburg", 9),
    ("Nijmegen", 6511, 6546, "Oost-Nederland", 18), ("Arnhem", 6811, 6846, "Oost-Nederland", 16),
    ("Enschede", 7511, 7548, "Oost-Nederland", 16), ("Zwolle", 8011, 8043, "Oost-Nederland", 13),
    ("Apeldoorn", 7311, 7339, "Oost-Nederland", 16), ("Groningen", 9711, 9747, "Noord-Nederland", 24),
    ("Leeuwarden", 8911, 8939, "Noord-Nederland", 12), ("Assen", 9401, 9409, "Noord-Nederland", 7),
)
# Letter pairs Dutch postcodes never use.
POSTCODE_EXCLUDED_LETTERS = frozenset({"SA", "SD", "SS"})

# The most common Dutch family names, drawn more often so that namesakes occur naturally.
COMMON_FAMILY_NAMES = ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
                       "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters",
                       "Hendriks", "van Leeuwen", "Dekker", "Brouwer")
NAMESAKE_FAMILY_NAMES = ("de Jong", "Jansen", "de Vries")
TUSSENVOEGSELS = ("van der", "van den", "van de", "van 't", "in 't", "van", "de", "den", "ter", "ten", "'t")

# Formal (baptismal) first names and the forms people actually go by.
NICKNAMES = {
    "Johannes": ("Hans", "Jan", "Johan"), "Cornelis": ("Kees", "Cor"), "Hendrik": ("Henk", "Rik"),
    "Willem": ("Wim",), "Pieter": ("Piet", "Peter"), "Jacobus": ("Koos", "Jaap"),
    "Gerardus": ("Gerard", "Gert"), "Franciscus": ("Frank", "Frans"), "Adrianus": ("Ad", "Arie"),
    "Theodorus": ("Theo", "Dorus"), "Antonius": ("Anton", "Ton", "Toon"), "Martinus": ("Martin", "Tinus"),
    "Wilhelmus": ("Wim", "Willem"), "Jozef": ("Jos", "Sjef"), "Christiaan": ("Chris",),
    "Sebastiaan": ("Bas",), "Bartholomeus": ("Bart",), "Alexander": ("Alex", "Sander"), "Thomas": ("Tom",),
    "Nicolaas": ("Klaas", "Niels"), "Maximiliaan": ("Max",), "Lodewijk": ("Louis", "Lou"),
    "Maria": ("Marie", "Mieke", "Ria"), "Johanna": ("Anja", "Hanneke", "Jo"), "Wilhelmina": ("Willy", "Mien"),
    "Elisabeth": ("Els", "Lisa", "Liesbeth"), "Catharina": ("Karin", "Ineke", "Toos"),
    "Margaretha": ("Greet", "Margriet"), "Geertruida": ("Truus",), "Jacoba": ("Coby", "Co"),
    "Hendrika": ("Riek", "Henny"), "Alexandra": ("Sandra", "Alex"), "Cornelia": ("Corrie", "Nel"),
}
FORMAL_FEMALE = ("Maria", "Johanna", "Wilhelmina", "Elisabeth", "Catharina", "Margaretha", "Geertruida",
                 "Jacoba", "Hendrika", "Alexandra", "Cornelia")
FORMAL_MALE = tuple(n for n in NICKNAMES if n not in FORMAL_FEMALE)

# Fictional platforms, their kind of service (published in truth.json as `platforms`; the services
# table a deployment configures, TIPTRIAGE_SERVICES_FILE) and how often reports come from them.
# Private storage services are where possession-only reports come from: NCMEC's schema has no
# per-file action, so "stored, not shared" is read from a storage service, publiclyAvailable false
# and no recipient (synth/truth.py).
PLATFORMS = {
    "Chirpline": "chat", "Pingora Chat": "chat", "Kwebbel": "chat", "PhotoNest": "social",
    "Gramble": "social", "Vidova": "video", "LockerCloud": "storage", "Stashbox": "storage",
    "Kluisje Drive": "storage", "Postvak Mail": "email", "SwarmShare": "p2p", "Blokland": "gaming",
    "Nieuwsnet": "other",
}
PLATFORM_WEIGHTS = {
    "Chirpline": 14, "Pingora Chat": 8, "Kwebbel": 8, "PhotoNest": 12, "Gramble": 8, "Vidova": 6,
    "LockerCloud": 14, "Stashbox": 10, "Kluisje Drive": 6, "Postvak Mail": 4, "SwarmShare": 3, "Blokland": 4,
    "Nieuwsnet": 1,
}
PLATFORM_HOSTS = {name: name.lower().replace(" ", "") + ".example" for name in PLATFORMS}
# What the people reported on each kind of service did with a file, where a source states it.
DISTRIBUTING_BY_KIND = {"chat": ("send", "share"), "social": ("public_post", "upload", "share"),
                        "video": ("upload", "public_post"), "storage": ("upload", "share"), "email": ("send",),
                        "p2p": ("share",), "gaming": ("send",), "other": ("public_post",)}
KEEPING_BY_KIND = {"chat": ("download", "store"), "social": ("download",), "video": ("download",),
                   "storage": ("store",), "email": ("download",), "p2p": ("download",), "gaming": ("download",),
                   "other": ("download",)}
# Actions that can go with a file the platform calls publicly available.
PUBLIC_ACTIONS = frozenset({"public_post", "upload", "share"})

EMAIL_PROVIDERS_NL = ("gmail.com", "hotmail.com", "outlook.com", "live.nl", "ziggo.nl", "kpnmail.nl",
                      "icloud.com", "proton.me", "yahoo.com")
EMAIL_PROVIDERS_INTERNATIONAL = ("gmail.com", "hotmail.com", "outlook.com", "icloud.com", "proton.me", "yahoo.com")
GMAIL_STYLE = frozenset({"gmail.com", "googlemail.com"})
SCREEN_WORDS = ("wolf", "storm", "pixel", "skater", "gamer", "tiger", "falcon", "shadow", "blue", "lucky",
                "rider", "ninja", "panda", "viking", "comet", "dutchie", "fox", "maverick", "spike", "echo")

# Abroad: the countries whose residents turn up, with phone formats and Faker locales.
FOREIGN = {
    "BE": {"locale": "nl_BE", "mobile": ("+324", 8), "weight": 35},
    "DE": {"locale": "de_DE", "mobile": ("+4915", 9), "weight": 30},
    "GB": {"locale": "en_GB", "mobile": ("+447", 9), "weight": 15},
    "PL": {"locale": "pl_PL", "mobile": ("+485", 8), "weight": 20},
}

# The synthetic world's IP allocation (see module docstring).
IP_BLOCKS = {
    "NL": ("77.160.0.0/13", "84.80.0.0/13", "94.208.0.0/13", "145.100.0.0/14", "2a02:a440::/29"),
    "BE": ("81.240.0.0/14", "2a02:1810::/29"),
    "DE": ("91.0.0.0/12", "2003:e0::/27"),
    "GB": ("86.128.0.0/12",),
    "PL": ("83.0.0.0/14",),
    "SE": ("46.240.0.0/13",),
}
# Shared addresses (the trap): one mobile carrier's CGNAT gateway block, a university and public wifi.
TRAP_BLOCKS = {"cgnat": "77.160.0.0/16", "university_nat": "145.100.0.0/16", "public_wifi": "94.208.0.0/16"}
# Exits of a commercial VPN, allocated to a country where no reported person lives: a platform that
# flags an address as a possible proxy says it places no one. Each report gets its own exit address.
PROXY_COUNTRY = "SE"
PROXY_BLOCK = "46.240.0.0/13"

NCMEC_INCIDENT = "Child Pornography (possession, manufacture, and distribution)"
ENTICEMENT_INCIDENT = "Online Enticement of Children for Sexual Acts"
UNSOLICITED_INCIDENT = "Unsolicited Obscene Material Sent to a Child"
# Report annotations that signal a risk of contact offending. NCMEC's schema has its own element
# names (reportAnnotations); tiptriage JSON and the CSV lists use tiptriage's words. Enticement is
# an incident type in NCMEC's schema, an annotation in our own formats.
NCMEC_RISK_ANNOTATIONS = ("csamSolicitation", "sadisticOnlineExploitation", "sextortion")
OWN_RISK_ANNOTATIONS = ("csam_solicitation", "enticement", "sextortion")
CONTACT_RISK_ANNOTATIONS = tuple(sorted(set(NCMEC_RISK_ANNOTATIONS) | set(OWN_RISK_ANNOTATIONS)))
# Report annotations that carry no contact risk.
NCMEC_BENIGN_ANNOTATIONS = {"young": "minorToMinorInteraction", "adult": "spam"}
BENIGN_REPORT_ANNOTATIONS = ("potential_meme", "viral")  # our own formats: memes forwarded by young people
# File annotations (NCMEC's fileAnnotations; our formats use a few of them in tiptriage's words).
NCMEC_KNOWN_FILE_ANNOTATIONS = ("potentialMeme", "viral", "animeDrawingVirtualHentai", "infant")
NCMEC_NEW_FILE_ANNOTATIONS = ("infant", "possibleSelfProduction", "physicalHarm", "violenceGore", "bestiality",
                              "liveStreaming", "generativeAi")
OWN_FILE_ANNOTATIONS = ("potential_meme", "viral")

# escalateToHighPriority: the platform's reason to think a child may be at immediate risk.
ESCALATIONS = (
    "The reported user appears to have ongoing access to the child depicted; the child may be at immediate risk.",
    "Messages indicate the user plans to meet the child this week.",
    "The user appears to be producing new material with a child in their care.",
    "Live-streamed abuse of a young child; the location may be the user's home.",
    "The child disclosed current abuse in the chat and asked for help.",
)
SCHOOL_NAMES = ("OBS De Regenboog", "Het Baken College", "CSG De Horizon", "Montessorischool De Linde",
                "Lyceum Aan Zee", "OBS Het Kompas", "Stedelijk Scholengemeenschap Noord")
CHAT_ROOMS = ("teen hangout", "gamers NL", "late night chat", "meme swap", "nieuwe vrienden")
GAMES = (("Blokland Online", None), ("Blokland Online", "PC"), ("Kart Royale", "handheld"), ("Sky Forts", "console"))
P2P_CLIENTS = ("SwarmShare 4.2", "SwarmShare 5.0", "SwarmShare Lite")
NEWSGROUPS = ("alt.binaries.pictures.misc", "alt.binaries.multimedia.misc")
BATCHED_MEME = "VIRAL_POTENTIAL_MEME"  # NCMEC's batchedReport reason
AGENCIES = ("Politie Eenheid Rotterdam", "Politie Landelijke Eenheid", "Bundeskriminalamt", "Federal Computer Crime Unit")

# Other senders of reports (tiptriage JSON) and the hotline bulk list (CSV).
JSON_SOURCES = {
    "EOKM Meldpunt": {"reporter": "Expertisebureau Online Kindermisbruik", "prefix": "EOKM"},
    "BKA": {"reporter": "Bundeskriminalamt", "prefix": "BKA-ZKI"},
    "Own investigation": {"reporter": "Team TBKK", "prefix": "OI"},
}
CSV_SOURCE = "INHOPE ICCAM"
CSV_REPORTER = "Meldpunt Kinderporno"

# File names as cameras and apps produce them: neutral, never descriptive.
FILE_NAME_PATTERNS = ("IMG_{n:04d}.jpg", "IMG_{n:04d}.JPG", "DSC{n:05d}.jpg", "vid_{n:04d}.mp4",
                      "VID-{y}{m:02d}{d:02d}-WA{n:04d}.mp4", "image({k}).png", "PXL_{n:06d}.jpg",
                      "Screenshot_{n:04d}.png", "video_{n:04d}.mov")
