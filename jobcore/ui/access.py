"""Who may use the app: single local user, or signed-in admins when [auth] is configured."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Access:
    """The outcome for one visitor: let in (as ``user``), ask to sign in, or refuse."""

    allowed: bool
    user: str | None
    mode: str  # "local" or "sign-in"
    needs_login: bool = False
    message: str | None = None


def decide_access(*, auth_configured: bool, logged_in: bool, email: str | None,
                  admin_emails: list[str], local_user: str) -> Access:
    """Without auth: everyone is the local user. With auth: only listed e-mails, signed in."""
    if not auth_configured:
        return Access(True, local_user, "local",
                      message="Local single-user mode: no [auth] in .streamlit/secrets.toml.")
    if not logged_in:
        return Access(False, None, "sign-in", needs_login=True,
                      message="Sign in to use AudienceGPT Admin Jobs.")
    allowed = {e.strip().lower() for e in admin_emails}
    if not email or email.strip().lower() not in allowed:
        return Access(False, email, "sign-in",
                      message=f"{email or 'This account'} is not on the admin list "
                              "(ADMIN_EMAILS). Ask an administrator for access.")
    return Access(True, email, "sign-in")
