"""Who may use the app: the local user on this machine only, or signed-in admins when
[auth] is configured.

Without sign-in every visitor would have every right, so the app then serves only browsers
on its own machine: ``.streamlit/config.toml`` binds it to 127.0.0.1, and a visitor from
another address is refused here as well (a different ``--server.address`` or a config
file not read). ``UNSAFE_SERVE_WITHOUT_SIGNIN=1`` lifts that on a trusted network.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

LOCAL_MESSAGE = ("Local single-user mode: no [auth] in .streamlit/secrets.toml, so only this "
                 "machine's browsers are served.")
UNSAFE_MESSAGE = ("Open to every visitor without sign-in (UNSAFE_SERVE_WITHOUT_SIGNIN): anyone "
                  "who can reach this port has every right.")


@dataclass(frozen=True)
class Access:
    """The outcome for one visitor: let in (as ``user``), ask to sign in, or refuse."""

    allowed: bool
    user: str | None
    mode: str  # "local" or "sign-in"
    needs_login: bool = False
    message: str | None = None


def is_loopback(address: str | None) -> bool:
    """Whether a visitor's address is this machine (Streamlit gives None for localhost)."""
    if not address:
        return True
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:  # not an address at all: not known to be this machine
        return False


def decide_access(*, auth_configured: bool, logged_in: bool, email: str | None,
                  admin_emails: list[str], local_user: str, client_address: str | None = None,
                  serve_remote: bool = False) -> Access:
    """Without auth: the local user, from this machine only (unless ``serve_remote``).
    With auth: only listed e-mails, signed in.
    """
    if not auth_configured:
        if serve_remote:
            return Access(True, local_user, "local", message=UNSAFE_MESSAGE)
        if not is_loopback(client_address):
            return Access(False, None, "local", message=(
                f"This app has no sign-in configured, so it serves only the machine it runs "
                f"on, and your browser is at {client_address}. Open it on that machine, or ask "
                "its administrator to configure sign-in ([auth] in .streamlit/secrets.toml)."))
        return Access(True, local_user, "local", message=LOCAL_MESSAGE)
    if not logged_in:
        return Access(False, None, "sign-in", needs_login=True,
                      message="Sign in to use AudienceGPT Admin Jobs.")
    allowed = {e.strip().lower() for e in admin_emails}
    if not email or email.strip().lower() not in allowed:
        return Access(False, email, "sign-in",
                      message=f"{email or 'This account'} is not on the admin list "
                              "(ADMIN_EMAILS). Ask an administrator for access.")
    return Access(True, email, "sign-in")


def where_reachable(address: str | None, port: int) -> str:
    """Where the app listens, as the sidebar says it ("this machine only: ...")."""
    if address and is_loopback(address):
        host = f"[{address}]" if ":" in address else address
        return f"This machine only: http://{host}:{port}"
    if not address or address in ("0.0.0.0", "::"):
        return f"Every network interface, port {port}"
    return f"http://{address}:{port}"
