"""Who calls: bearer tokens (owner, role) checked and their use logged, the database
engine of the app, and the check that a query names only known parameters once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from jobcore import access, audit
from jobcore.api.problems import HTTPProblem
from jobcore.db import get_engine


def hash_token(token: str) -> str:
    """How a token is stored in settings: its SHA-256, hex (tokens are long and random)."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_token_entries(entries: list[str]) -> dict[str, tuple[str, access.Role]]:
    """``owner:role:sha256hex`` entries (API_TOKENS) -> {hash: (owner, role)}; an entry
    without a role (``owner:sha256hex``, made before roles) is an operator's.
    """
    tokens: dict[str, tuple[str, access.Role]] = {}
    for entry in entries:
        rest, _, digest = entry.rpartition(":")
        owner, _, role = rest.rpartition(":") if rest.count(":") else (rest, "", "operator")
        if owner and len(digest) == 64 and role in access.ROLES:
            tokens[digest.lower()] = (owner, access.role_named(role))
    return tokens


_bearer = HTTPBearer(auto_error=False)


# Routes and dependencies are async so that FastAPI does not hop to a worker thread for each
# of them (and for the response's validation); the one jobcore call of a route runs in the
# thread pool (run_in_threadpool), since it blocks on the database.
async def token_caller(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None,
                                         Depends(_bearer)]) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPProblem(401, "unauthorized", "Send 'Authorization: Bearer <token>'.")
    digest = hash_token(credentials.credentials)
    for known, (owner, role) in request.app.state.tokens.items():
        if hmac.compare_digest(known, digest):
            # the request's operations act as the token's owner, with its role (the
            # context goes with the request's calls into the thread pool)
            actor = access.Actor(owner, role, "api")
            access.set_actor(actor)
            if _first_use_lately(request.app, known):
                await run_in_threadpool(
                    audit.record_outcome, "token_use", actor=actor, outcome="done",
                    details={"route": f"{request.method} {request.url.path}"},
                    engine=await app_engine(request))
            return owner
    raise HTTPProblem(403, "forbidden", "This token is not recognised.")


TOKEN_USE_EVERY = 3600.0  # seconds: a token's use is logged once an hour, not per call


def _first_use_lately(app: FastAPI, digest: str) -> bool:
    """Whether this token's use is to be logged now (the first call, then once an hour)."""
    now = time.monotonic()
    last = app.state.token_used.get(digest)
    if last is not None and now - last < TOKEN_USE_EVERY:
        return False
    app.state.token_used[digest] = now
    return True


async def app_engine(request: Request) -> Engine:
    if request.app.state.engine is None:
        request.app.state.engine = await run_in_threadpool(get_engine)
    return request.app.state.engine


async def single_query_values(request: Request) -> None:
    """Refuse a query parameter given more than once (the schema allows one value)."""
    keys = [key for key, _ in request.query_params.multi_items()]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise HTTPProblem(422, "invalid", f"{repeated[0]}: give this parameter only once",
                           field=repeated[0])
    route = request.scope.get("route")
    if route is not None and hasattr(route, "dependant"):  # the schema allows no others
        known = {field.alias for field in route.dependant.query_params}
        unknown = sorted(set(keys) - known)
        if unknown:
            raise HTTPProblem(422, "invalid", f"{unknown[0]!r}: no such parameter (known: "
                               f"{', '.join(sorted(known))})", field=unknown[0])


Caller = Annotated[str, Depends(token_caller)]
DB = Annotated[Engine, Depends(app_engine)]


