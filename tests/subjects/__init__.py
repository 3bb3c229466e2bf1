"""Tests of subject resolution; `subjects.strategies` holds Hypothesis strategies for it."""
