"""Seed data files (package data), loaded with importlib.resources."""
