"""Subjects: resolving reported persons to the real people behind them."""
