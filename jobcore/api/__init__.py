"""HTTP API for the job system: the seed's routes on top of jobcore (FastAPI).

Thin by design: request validation, bearer-token access and the mapping of jobcore's
results and errors to HTTP; every action is a jobcore call. Start it with
``python -m jobcore serve``; the OpenAPI document is at /openapi.json.
"""

from jobcore.api.app import create_app
from jobcore.api.tokens import hash_token, parse_token_entries

__all__ = ["create_app", "hash_token", "parse_token_entries"]
