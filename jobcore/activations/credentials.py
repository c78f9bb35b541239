"""Platform credentials, encrypted at rest with keys from settings (Fernet, rotatable).

CREDENTIALS_KEY holds one or more Fernet keys, comma-separated: the first encrypts, all
decrypt (cryptography's Fernet and MultiFernet), so a key is rotated by putting the new one
first and running ``python -m jobcore encrypt-credentials``, then dropping the old one.
Keys are never stored in the database; secrets are wrapped in pydantic's SecretStr so that
they do not show in reprs, logs or errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError
from sqlalchemy.engine import Connection

from jobcore import audit
from jobcore.config import get_settings
from jobcore.errors import JobcoreError, UsageError
from jobcore.schema import PLATFORMS, sync_credentials


class CredentialsKeyError(JobcoreError):
    """CREDENTIALS_KEY is missing, malformed, or does not decrypt what is stored."""


class PlatformCredentials(BaseModel):
    """What a platform client needs to authenticate for one organisation."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    account_id: str
    secret: SecretStr


@dataclass(frozen=True)
class KeyRing:
    """The configured Fernet keys: the first encrypts, every one decrypts."""

    fernets: tuple[Fernet, ...]

    def encrypt(self, data: bytes) -> str:
        return self.fernets[0].encrypt(data).decode()

    def decrypt(self, token: str) -> bytes:
        """The plaintext; InvalidToken when no key reads it."""
        return MultiFernet(list(self.fernets)).decrypt(token.encode())

    def is_current(self, token: str) -> bool:
        """Whether the first key reads it (no rotation needed)."""
        try:
            self.fernets[0].decrypt(token.encode())
        except InvalidToken:
            return False
        return True


def key_ring(keys: str | None = None) -> KeyRing:
    """The configured keys; CredentialsKeyError when there are none or one is malformed."""
    raw = keys if keys is not None else get_settings().credentials_key
    parts = [k.strip() for k in (raw or "").split(",") if k.strip()]
    if not parts:
        raise CredentialsKeyError(
            "CREDENTIALS_KEY is not set: it must hold a Fernet key (make one with "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
            ".decode())'). Nothing was changed.")
    try:
        return KeyRing(tuple(Fernet(part) for part in parts))
    except (ValueError, TypeError):
        raise CredentialsKeyError("CREDENTIALS_KEY is malformed: each comma-separated part "
                                  "must be a url-safe base64 Fernet key of 32 bytes. "
                                  "Nothing was changed.") from None


def _serialise(credentials: PlatformCredentials) -> bytes:
    return json.dumps({"account_id": credentials.account_id,
                       "secret": credentials.secret.get_secret_value()}).encode()


def save(conn: Connection, org_id: int, platform: str, credentials: PlatformCredentials, *,
         keys: KeyRing | None = None) -> None:
    """Store (or replace) an organisation's credentials for a platform, encrypted."""
    if platform not in PLATFORMS:
        raise UsageError(f"platform must be one of {', '.join(PLATFORMS)}, got {platform!r}.")
    audit.within(conn, "credentials", target=f"org {org_id}", details={"platform": platform})
    token = (keys or key_ring()).encrypt(_serialise(credentials))
    stmt = sa.dialects.postgresql.insert(sync_credentials).values(
        org_id=org_id, platform=platform, secret=token, encrypted=True)
    conn.execute(stmt.on_conflict_do_update(
        constraint="uq_sync_credentials_org_platform",
        set_={"secret": token, "encrypted": True, "updated_at": sa.func.now()}))


def load(conn: Connection, org_id: int, platform: str, *,
         keys: KeyRing | None = None) -> PlatformCredentials | None:
    """An organisation's credentials for a platform, decrypted; None when there are none."""
    row = conn.execute(sa.select(sync_credentials.c.secret, sync_credentials.c.encrypted)
                       .where(sync_credentials.c.org_id == org_id,
                              sync_credentials.c.platform == platform)).first()
    if row is None:
        return None
    if not row.encrypted:
        raise CredentialsKeyError(
            f"The {platform} credentials of organisation {org_id} are stored unencrypted; "
            "run python -m jobcore encrypt-credentials first.")
    try:
        plain = (keys or key_ring()).decrypt(row.secret)
    except InvalidToken:
        raise CredentialsKeyError(
            f"CREDENTIALS_KEY does not decrypt the {platform} credentials of organisation "
            f"{org_id} (wrong or rotated-out key).") from None
    return PlatformCredentials.model_validate(json.loads(plain))


def presence(conn: Connection, org_id: int) -> dict[str, bool]:
    """Which platforms an organisation has credentials for (never the secrets)."""
    stored = set(conn.execute(sa.select(sync_credentials.c.platform)
                              .where(sync_credentials.c.org_id == org_id)).scalars())
    return {platform: platform in stored for platform in PLATFORMS}


@dataclass(frozen=True)
class EncryptionReport:
    encrypted: int  # plaintext rows encrypted
    rotated: int  # encrypted rows re-encrypted under the first key
    unchanged: int
    dry_run: bool


def _plaintext(row: sa.Row) -> PlatformCredentials:
    try:
        return PlatformCredentials.model_validate(json.loads(row.secret))
    except (ValueError, ValidationError):
        raise UsageError(
            f"The stored {row.platform} credentials of organisation {row.org_id} are not a "
            'JSON object {"account_id": ..., "secret": ...}; fix that row first. '
            "Nothing was changed.") from None


def encrypt_all(conn: Connection, *, dry_run: bool = False,
                keys: KeyRing | None = None) -> EncryptionReport:
    """Encrypt plaintext rows and re-encrypt the others under the first key, all or nothing.

    Every row is read first: if one cannot be (a wrong key, a malformed plaintext row), the
    error is raised before anything is written.
    """
    if not dry_run:
        audit.within(conn, "encrypt_credentials")
    ring = keys or key_ring()
    rows = conn.execute(sa.select(sync_credentials).order_by(sync_credentials.c.id)
                        .with_for_update()).all()
    updates: list[tuple[int, str]] = []
    encrypted = rotated = unchanged = 0
    for row in rows:
        if not row.encrypted:
            updates.append((row.id, ring.encrypt(_serialise(_plaintext(row)))))
            encrypted += 1
        elif ring.is_current(row.secret):
            unchanged += 1
        else:
            try:
                plain = ring.decrypt(row.secret)
            except InvalidToken:
                raise CredentialsKeyError(
                    f"CREDENTIALS_KEY does not decrypt the {row.platform} credentials of "
                    f"organisation {row.org_id} (wrong key?). Nothing was changed.") from None
            updates.append((row.id, ring.encrypt(plain)))
            rotated += 1
    if not dry_run:
        for row_id, token in updates:
            conn.execute(sa.update(sync_credentials).where(sync_credentials.c.id == row_id)
                         .values(secret=token, encrypted=True, updated_at=sa.func.now()))
    return EncryptionReport(encrypted, rotated, unchanged, dry_run)
