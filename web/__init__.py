"""The HTTP front door: health, metrics (and, to come, the API and the Mini App)."""
