"""The outcomes a recommendation can have: the vocabulary triage recommends in and operations plans
capacity for (so units' configuration can be checked without importing triage)."""

from tiptriage.i18n import N_

OUTCOMES = (N_("URGENT"), N_("CRIMINAL_CASE"), N_("WARNING"), N_("YOUTH"), N_("NEEDS_IDENTIFICATION"),
            N_("NEEDS_REVIEW"), N_("FORWARD"), N_("NO_ACTION"))
