"""Who may use the app: the local user on this machine only, or signed-in admins when
[auth] is configured.

Without sign-in every visitor would have every right, so the app then serves only browsers
on its own machine: ``.streamlit/config.toml`` binds it to 127.0.0.1, and a visitor from
another address is refused here as well (a different ``--server.address`` or a config
file not read). ``UNSAFE_SERVE_WITHOUT_SIGNIN=1`` lifts that on a trusted network.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from jobcore.access import Actor, Role

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
    role: Role | None = None  # what the visitor let in may do (jobcore.access)


@dataclass(frozen=True)
class RoleLists:
    """Who gets which role when sign-in is configured: e-mails, or groups of the OIDC
    provider's "groups" claim; the highest role that names a visitor wins.
    """

    admin_emails: Sequence[str] = ()
    operator_emails: Sequence[str] = ()
    viewer_emails: Sequence[str] = ()
    admin_groups: Sequence[str] = ()
    operator_groups: Sequence[str] = ()
    viewer_groups: Sequence[str] = ()

    def role_of(self, email: str | None, groups: Iterable[str] = ()) -> Role | None:
        """The visitor's role, or None when no list names them."""
        mail = (email or "").strip().lower()
        held = {g.strip().lower() for g in groups}
        for role, emails, group_names in (
                (Role.ADMIN, self.admin_emails, self.admin_groups),
                (Role.OPERATOR, self.operator_emails, self.operator_groups),
                (Role.VIEWER, self.viewer_emails, self.viewer_groups)):
            if (mail and mail in {e.strip().lower() for e in emails}) or (
                    held & {g.strip().lower() for g in group_names}):
                return role
        return None


def is_loopback(address: str | None) -> bool:
    """Whether a visitor's address is this machine (Streamlit gives None for localhost)."""
    if not address:
        return True
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:  # not an address at all: not known to be this machine
        return False


def decide_access(*, auth_configured: bool, logged_in: bool, email: str | None,
                  local_user: str, admin_emails: Sequence[str] = (),
                  roles: RoleLists | None = None, groups: Iterable[str] = (),
                  client_address: str | None = None, serve_remote: bool = False) -> Access:
    """Without auth: the local user as admin, from this machine only (unless
    ``serve_remote``). With auth: signed-in visitors that ``roles`` (or ``admin_emails``)
    name, with their role.
    """
    roles = roles or RoleLists(admin_emails=admin_emails)
    if not auth_configured:
        if serve_remote:
            return Access(True, local_user, "local", message=UNSAFE_MESSAGE, role=Role.ADMIN)
        if not is_loopback(client_address):
            return Access(False, None, "local", message=(
                f"This app has no sign-in configured, so it serves only the machine it runs "
                f"on, and your browser is at {client_address}. Open it on that machine, or ask "
                "its administrator to configure sign-in ([auth] in .streamlit/secrets.toml)."))
        return Access(True, local_user, "local", message=LOCAL_MESSAGE, role=Role.ADMIN)
    if not logged_in:
        return Access(False, None, "sign-in", needs_login=True,
                      message="Sign in to use AudienceGPT Admin Jobs.")
    role = roles.role_of(email, groups)
    if not email or role is None:
        return Access(False, email, "sign-in",
                      message=f"{email or 'This account'} is not on the admin, operator or "
                              "viewer lists (ADMIN_EMAILS, OPERATOR_EMAILS, VIEWER_EMAILS or "
                              "their groups). Ask an administrator for access.")
    return Access(True, email, "sign-in", role=role)


ACTOR_KEY = "actor"  # the visitor's jobcore.access.Actor in the session's state


def page_actor() -> Actor | None:
    """The actor of the current page script run (its callbacks and fragment reruns too):
    the visitor the entry script let in, else an anonymous viewer (fail closed); None
    outside a script run (a test, a worker thread).
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return None
    try:
        actor = ctx.session_state[ACTOR_KEY]
    except KeyError:
        actor = None
    return actor if isinstance(actor, Actor) else Actor("anonymous", Role.VIEWER, "page")


def where_reachable(address: str | None, port: int) -> str:
    """Where the app listens, as the sidebar says it ("this machine only: ...")."""
    if address and is_loopback(address):
        host = f"[{address}]" if ":" in address else address
        return f"This machine only: http://{host}:{port}"
    if not address or address in ("0.0.0.0", "::"):
        return f"Every network interface, port {port}"
    return f"http://{address}:{port}"
