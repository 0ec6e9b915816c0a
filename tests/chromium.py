"""Debian's Chromium as the browser tests and bench/page_weight.py drive it (`playwright install` cannot
work here). No Django in this module, so a benchmark can import it before setting Django up."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # Nothing but loopback: any other host name fails to resolve instead of reaching the network.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
