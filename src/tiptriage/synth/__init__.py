"""Synthetic data: generated people and reports, hash banks and ground truth. Never real data."""
