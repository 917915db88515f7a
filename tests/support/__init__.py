"""Test support shared by the integration suites (importable as `support`)."""
