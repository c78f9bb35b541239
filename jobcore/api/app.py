"""The API app: its routes (those listing the job types built now), token access and the
mapping of errors to HTTP.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from jobcore import access
from jobcore.api.problems import install_error_handlers
from jobcore.api.routes import router
from jobcore.api.tokens import parse_token_entries
from jobcore.api.typed_routes import typed_routes
from jobcore.config import get_settings


def create_app(*, engine: Engine | None = None,
               tokens: dict[str, tuple[str, access.Role]] | None = None) -> FastAPI:
    """The API app; ``engine`` and ``tokens`` ({sha256: (owner, role)}) default to the
    settings.
    """
    app = FastAPI(title="AudienceGPT Admin Jobs API", version="1.0",
                  description="Create, process, poll, cancel, roll back and retry admin jobs.")
    app.state.engine = engine
    app.state.token_used = {}  # token hash -> when its use was last logged (monotonic)
    app.state.tokens = tokens if tokens is not None else parse_token_entries(
        get_settings().api_tokens)
    install_error_handlers(app)
    app.include_router(typed_routes())
    app.include_router(router)
    return app


