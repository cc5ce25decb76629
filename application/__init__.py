"""The application layer: the use cases every front door calls, returning frozen records."""
