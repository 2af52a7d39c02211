"""Accounts, onboarding and sessions of contact persons and ministry staff."""
