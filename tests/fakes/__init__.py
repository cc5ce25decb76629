"""Fake external services for end-to-end tests."""
