"""The outcomes a recommendation can have: the vocabulary triage recommends in and operations plans
capacity for (so units' configuration can be checked without importing triage)."""

OUTCOMES = ("URGENT", "CRIMINAL_CASE", "WARNING", "YOUTH", "NEEDS_IDENTIFICATION", "NEEDS_REVIEW", "FORWARD",
            "NO_ACTION")
