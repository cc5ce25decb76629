"""One TLS context for the process's HTTP clients.

Each httpx client otherwise loads the CA bundle into a context of its own, some 20–40 ms of CPU
apiece: at start the Bot API check and PTB's two request pools each did, and the long poll's
pool is built again whenever a poll is cancelled. One context, made on first use, serves them
all (an `ssl.SSLContext` may be shared by any number of connections)."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's own default verification (certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR),
    made once."""
    return httpx.create_ssl_context()
