"""Who may do what: three roles, the role each action needs, and who is acting now.

- **viewer**: reads every screen and exports CSVs.
- **operator**: also creates, runs, stops, cancels, resumes, retries and rolls back jobs,
  edits reviews, marks topics not duplicates, merges and undoes merges.
- **admin**: also stores platform credentials, prunes (retention), runs bulk actions over
  filters and reads the audit log; API tokens are given out by admins.

Each operation of jobcore asks ``can`` through jobcore.audit (which records a refusal and
raises Forbidden naming the role needed), so a page, the HTTP API, the CLI and the worker
pass the same check. The actor is set where a request enters: the page's from the sign-in,
kept in the session (jobcore.ui.access.page_actor, so that callbacks and fragment reruns
act as the visitor too), the API's from the token's role, the CLI and the worker as the
local admin; code that sets none (scripts, benches, tests) acts as
the local admin, as the CLI does: whoever holds the database's credentials can do anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import IntEnum

from jobcore.errors import UsageError


class Role(IntEnum):
    """A role; a higher one may do everything a lower one may."""

    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    def __str__(self) -> str:
        return self.name.lower()


ROLES = tuple(str(r) for r in Role)

# every action an actor takes, with the least role it needs and what it is, as people say it
ACTIONS: dict[str, tuple[Role, str]] = {
    "create": (Role.OPERATOR, "create a job"),
    "process": (Role.OPERATOR, "run a job's chunks"),
    "cancel": (Role.OPERATOR, "cancel a job"),
    "resume": (Role.OPERATOR, "resume a job"),
    "background": (Role.OPERATOR, "hand a job to the workers"),
    "take_over": (Role.OPERATOR, "take a job back from the workers"),
    "stop_stuck": (Role.OPERATOR, "stop a stuck chunk"),
    "review_edit": (Role.OPERATOR, "edit a topic's classification"),
    "review_resolve": (Role.OPERATOR, "resolve flagged topics"),
    "exemplar_remove": (Role.OPERATOR, "remove exemplars"),
    "mark_not_duplicates": (Role.OPERATOR, "mark two topics not duplicates"),
    "unmark_not_duplicates": (Role.OPERATOR, "undo a not-duplicates mark"),
    "seed_demo": (Role.OPERATOR, "load the demo catalogue"),
    "seed_trees": (Role.OPERATOR, "load or update the taxonomy trees"),
    "embed": (Role.OPERATOR, "embed the catalogue"),
    "encrypt_credentials": (Role.ADMIN, "encrypt or re-encrypt platform credentials"),
    "credentials": (Role.ADMIN, "store platform credentials"),
    "prune": (Role.ADMIN, "prune finished jobs (retention)"),
    "bulk": (Role.ADMIN, "act on every job a filter matches"),
    "audit_read": (Role.ADMIN, "read the audit log"),
    "token_use": (Role.VIEWER, "use an API token"),
}


@dataclass(frozen=True)
class Actor:
    """Who acts: a name (an e-mail, a token's owner, a login), a role, and through what
    (page, api, cli, worker, library).
    """

    name: str
    role: Role
    via: str


_current: ContextVar[Actor | None] = ContextVar("jobcore_actor", default=None)


def role_named(name: str) -> Role:
    """The role of this name ("viewer", "operator", "admin"); UsageError otherwise."""
    try:
        return Role[name.strip().upper()]
    except KeyError:
        raise UsageError(f"No role {name!r}: roles are {', '.join(ROLES)}.") from None


def local_admin(via: str = "library") -> Actor:
    """The local user (ADMIN_USER) as admin: the CLI, the worker, code without a request."""
    from jobcore.config import get_settings

    return Actor(get_settings().admin_user, Role.ADMIN, via)


# Where the screens keep their visitor: set by the app (jobcore.ui.access.page_actor), read
# first, since a page's callbacks and fragment reruns may run on a thread of their own where
# no context variable of the entry script's run is set.
_page_actor: Callable[[], Actor | None] | None = None


def use_page_actor(source: Callable[[], Actor | None]) -> None:
    """Read the actor of a page's script run (callbacks and fragments included) from
    ``source``; it answers None outside a script run.
    """
    global _page_actor
    _page_actor = source


def current_actor() -> Actor:
    """Who acts in this context (see the module docstring)."""
    if _page_actor is not None and (actor := _page_actor()) is not None:
        return actor
    return _current.get() or local_admin()


def set_actor(actor: Actor) -> None:
    """Make ``actor`` the actor of the rest of this context (an API request's task),
    where no block encloses the work.
    """
    _current.set(actor)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Run the block as ``actor``."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def needed_role(action: str) -> Role:
    """The least role that may take ``action``."""
    return ACTIONS[action][0]


def can(action: str, actor: Actor | None = None) -> bool:
    """Whether the actor (the current one by default) may take ``action``."""
    return (actor or current_actor()).role >= needed_role(action)


def refusal(action: str, actor: Actor) -> str:
    """Why ``actor`` may not take ``action``, naming the role it needs."""
    role, what = ACTIONS[action]
    allowed = " or ".join(f"{_article(r)} {r}" for r in Role if r >= role)
    return f"Only {allowed} may {what}; {actor.name} is {_article(actor.role)} {actor.role}."


def _article(role: Role) -> str:
    return "an" if str(role)[0] in "aeiou" else "a"
