"""Intake: report files in, parsed into domain objects, stored durably and idempotently."""
