"""Insight for a unit's leadership: statistics of the caseload (`stats.py`) and whether warnings
work (`evaluation.py`), aggregates only, small counts suppressed; charts from both (`charts.py`)."""
