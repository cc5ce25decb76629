"""The ground floor: settings, the error root, logs and metrics. Imports nothing of ours."""

__version__ = "0.1.0"
