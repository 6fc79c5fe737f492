"""Shared core of fullsite: the raw contract, the rule parameters, the synthetic data."""
