"""Where the app listens. Loopback (127.0.0.1) unless a workshop exposes it on purpose.

``.streamlit/config.toml`` beside ``app.py`` sets ``server.address = "127.0.0.1"``; Streamlit
reads it whatever the working folder. A workshop sets another address on the command line
(``--server.address 0.0.0.0``) or in ``STREAMLIT_SERVER_ADDRESS``. With no address at all
(the config file removed), Streamlit would listen on every interface: the app then refuses to
draw anything and says how to start it.
"""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = ("localhost",)


def exposure(address: str | None) -> str:
    """``"unset"`` (Streamlit's default: every interface), ``"loopback"`` (this machine only, or a
    unix socket) or ``"network"`` (reachable from other machines, set on purpose)."""
    if not address:
        return "unset"
    address = address.strip().strip("[]")
    if address.startswith("unix://") or address.lower() in LOOPBACK_NAMES:
        return "loopback"
    try:
        return "loopback" if ipaddress.ip_address(address).is_loopback else "network"
    except ValueError:
        return "network"  # a host name: whatever it resolves to, it was chosen on purpose


def current_exposure() -> str:
    """The exposure of the running app (from Streamlit's ``server.address``)."""
    import streamlit as st

    return exposure(st.get_option("server.address"))
