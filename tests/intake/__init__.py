"""Intake tests; `intake.strategies` holds Hypothesis strategies for generated reports."""
