"""Deterministic, realistic, deliberately dirty synthetic landing-zone data."""
