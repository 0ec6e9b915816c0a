"""One TLS context shared by every client: building one loads the whole CA bundle (about 20 ms of CPU), and
the pipeline makes a pair of clients for each task it runs."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def context() -> ssl.SSLContext:
    # httpx's own default (certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR), built once per process.
    # An SSLContext may be shared between threads and connections.
    return httpx.create_ssl_context()
