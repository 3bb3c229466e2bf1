"""What NCMEC's CyberTipline reporting schema (the ESP reporting XSD) declares, as tables.

Written by reading the published XSD, not copied from it. The reader uses these tables to know
which elements carry what; the writer emits children in the order each `xs:sequence` requires, so
what the synthetic generator writes validates against the schema.

The reports police receive carry one element the ESP schema does not: the `<reportId>` NCMEC
assigns, first in `<report>`. tiptriage's own optional additions (`EXTENSIONS`) are written only
when asked for.
"""

from __future__ import annotations

# Children of each element, in schema order. Keys are element (or complex type) names.
ORDER: dict[str, tuple[str, ...]] = {
    "report": ("batchedReport", "incidentSummary", "internetDetails", "lawEnforcement", "reporter",
               "personOrUserReported", "intendedRecipient", "victim", "additionalInfo"),
    "incidentSummary": ("incidentType", "platform", "escalateToHighPriority", "reportAnnotations",
                        "incidentDateTime", "incidentDateTimeDescription"),
    "lawEnforcement": ("agencyName", "caseNumber", "officerContact", "reportedToLe", "servedLegalProcessDomestic",
                       "servedLegalProcessInternational"),
    "reporter": ("reportingPerson", "contactPerson", "companyTemplate", "termsOfService", "legalURL"),
    "personOrUserReported": (
        "personOrUserReportedPerson", "vehicleDescription", "espIdentifier", "espService", "compromisedAccount",
        "screenName", "displayName", "profileUrl", "profileBio", "ipCaptureEvent", "deviceId",
        "thirdPartyUserReported", "priorCTReports", "groupIdentifier", "accountTemporarilyDisabled",
        "accountPermanentlyDisabled", "estimatedLocation", "allEmailsReported", "associatedAccount", "additionalInfo"),
    "intendedRecipient": (
        "intendedRecipientPerson", "espIdentifier", "espService", "compromisedAccount", "screenName", "displayName",
        "profileUrl", "profileBio", "ipCaptureEvent", "deviceId", "priorCTReports", "groupIdentifier",
        "accountTemporarilyDisabled", "accountPermanentlyDisabled", "estimatedLocation", "allEmailsReported",
        "additionalInfo"),
    "victim": (
        "victimPerson", "espIdentifier", "espService", "compromisedAccount", "screenName", "displayName",
        "profileUrl", "profileBio", "ipCaptureEvent", "deviceId", "schoolName", "priorCTReports",
        "accountTemporarilyDisabled", "accountPermanentlyDisabled", "estimatedLocation", "allEmailsReported",
        "associatedAccount", "additionalInfo"),
    "associatedAccount": (
        "platform", "firstName", "middleName", "lastName", "approximateAge", "dateOfBirth", "phone", "email",
        "allEmailsReported", "address", "espService", "espIdentifier", "profileUrl", "screenName", "displayName",
        "profileBio", "groupIdentifier", "compromisedAccount", "accountTemporarilyDisabled",
        "accountPermanentlyDisabled", "ipCaptureEvent", "deviceId", "priorCTReport", "additionalInfo"),
    "person": ("firstName", "lastName", "phone", "email", "address", "age", "dateOfBirth"),
    "contactPerson": ("firstName", "lastName", "phone", "email", "address"),
    "address": ("address", "city", "zipCode", "state", "nonUsaState", "country"),
    "ipCaptureEvent": ("ipAddress", "eventName", "dateTime", "possibleProxy", "port"),
    "deviceId": ("idType", "idValue", "eventName", "dateTime"),
    "estimatedLocation": ("city", "region", "countryCode"),
    "fileDetails": (
        "reportId", "fileId", "fileName", "originalFileName", "uploadedToEspTimestamp", "locationOfFile",
        "fileViewedByEsp", "exifViewedByEsp", "publiclyAvailable", "fileRelevance", "potentialMeme",
        "fileAnnotations", "industryClassification", "originalFileHash", "ipCaptureEvent", "deviceId", "details",
        "additionalInfo"),
}

# Attributes each element or type declares.
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "batchedReport": ("reason",),
    "webPageIncident": ("thirdPartyHostedContent",),
    "servedLegalProcessInternational": ("fleaCountry",),
    "address": ("type",),
    "email": ("type", "verified", "verificationDate"),
    "phone": ("type", "verified", "verificationDate", "countryCallingCode", "extension"),
    "estimatedLocation": ("verified", "timestamp"),
    "accountTemporarilyDisabled": ("disabledDate", "userNotified", "userNotifiedDate", "reenabledDate"),
    "accountPermanentlyDisabled": ("disabledDate", "userNotified", "userNotifiedDate"),
    "associatedAccount": ("type",),
    "associatedAccount/platform": ("thirdPartyUser",),
    "originalFileHash": ("hashType",),
    "details": ("type",),
}

# internetDetails holds exactly one of these; tag → kind (intake/domain.py INCIDENT_KINDS).
INCIDENTS: dict[str, str] = {
    "webPageIncident": "web_page", "emailIncident": "email", "newsgroupIncident": "newsgroup",
    "chatImIncident": "chat_im", "onlineGamingIncident": "online_gaming", "cellPhoneIncident": "cell_phone",
    "nonInternetIncident": "non_internet", "peer2peerIncident": "peer2peer",
}
INCIDENT_TAGS = {kind: tag for tag, kind in INCIDENTS.items()}
# Each incident's children in schema order. `content` (a whole communication) and `additionalInfo`
# are free text of any length: they stay in the raw copy.
INCIDENT_ORDER: dict[str, tuple[str, ...]] = {
    "web_page": ("url", "additionalInfo"),
    "email": ("emailAddress", "content", "additionalInfo"),
    "newsgroup": ("name", "emailAddress", "content", "additionalInfo"),
    "chat_im": ("chatClient", "chatRoomName", "content", "additionalInfo"),
    "online_gaming": ("gameName", "console", "content", "additionalInfo"),
    "cell_phone": ("phoneNumber", "latitude", "longitude", "additionalInfo"),
    "non_internet": ("locationName", "incidentAddress", "additionalInfo"),
    "peer2peer": ("client", "ipCaptureEvent", "fileNames", "additionalInfo"),
}
FREE_TEXT = frozenset({"content", "additionalInfo", "profileBio", "companyTemplate", "termsOfService",
                       "incidentDateTimeDescription"})
INCIDENT_DETAILS = {kind: tuple(t for t in order if t not in FREE_TEXT and t != "ipCaptureEvent")
                    for kind, order in INCIDENT_ORDER.items()}

# Person blocks: tag → (role, reference prefix, the person element inside).
PERSON_BLOCKS: dict[str, tuple[str, str, str]] = {
    "personOrUserReported": ("reported", "p", "personOrUserReportedPerson"),
    "intendedRecipient": ("recipient", "r", "intendedRecipientPerson"),
    "victim": ("victim", "v", "victimPerson"),
}
BLOCK_OF_ROLE = {role: tag for tag, (role, _, _) in PERSON_BLOCKS.items()}
# Account elements an analyst reads that no rule or link uses: kept as the person's details.
ACCOUNT_DETAILS = ("vehicleDescription", "compromisedAccount", "displayName", "profileUrl", "thirdPartyUserReported",
                   "schoolName", "groupIdentifier", "accountTemporarilyDisabled", "accountPermanentlyDisabled",
                   "allEmailsReported", "middleName", "platform")
# The same for a file; unusable hashes (a type tiptriage cannot match, a malformed value) go there too.
FILE_DETAILS = ("originalFileName", "locationOfFile", "exifViewedByEsp", "ipCaptureEvent", "deviceId")
REPORTER_DETAILS = ("reportingPerson", "contactPerson", "legalURL")

# Annotations: elements whose presence is the flag (schema: xs:boolean fixed "true").
REPORT_ANNOTATIONS = ("sextortion", "csamSolicitation", "minorToMinorInteraction", "spam",
                      "sadisticOnlineExploitation")
FILE_ANNOTATIONS = ("animeDrawingVirtualHentai", "potentialMeme", "viral", "possibleSelfProduction",
                    "physicalHarm", "violenceGore", "bestiality", "liveStreaming", "infant", "generativeAi")
INCIDENT_TYPES = (
    "Child Pornography (possession, manufacture, and distribution)", "Child Sex Trafficking",
    "Child Sex Tourism", "Child Sexual Molestation", "Misleading Domain Name",
    "Misleading Words or Digital Images on the Internet", "Online Enticement of Children for Sexual Acts",
    "Unsolicited Obscene Material Sent to a Child",
)
IP_CAPTURE_TYPES = ("Login", "Registration", "Purchase", "Upload", "Other", "Unknown")
FILE_RELEVANCE = ("Reported", "Supplemental Reported")
ADDRESS_TYPES = ("Home", "Business", "Billing", "Shipping", "Technical")
ASSOCIATED_ACCOUNT_TYPES = ("Billing", "Linked", "Business", "Creator", "Parent/Guardian", "Other")
BATCHED_REASONS = ("VIRAL_POTENTIAL_MEME",)
# Country codes of the schema's country list that name no country.
PSEUDO_COUNTRIES = {"A1": "anonymous proxy", "A2": "satellite provider", "O1": "other country"}

# tiptriage's own additions, for sources that know more than NCMEC's schema carries.
EXTENSIONS = {"report": ("reportedAt", "fileDetails"), "reporter": ("espName",),
              "fileDetails": ("personRef", "action")}
