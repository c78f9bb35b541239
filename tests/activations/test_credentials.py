"""Platform credentials: encrypted at rest, rotatable, and never readable with a wrong key."""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from jobcore.activations import credentials
from jobcore.activations.credentials import CredentialsKeyError, PlatformCredentials, key_ring
from jobcore.cli.main import main
from jobcore.config import get_settings
from jobcore.schema import sync_credentials

SECRET = "s3cr3t-value-that-must-not-leak"
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def _creds(secret: str = SECRET) -> PlatformCredentials:
    return PlatformCredentials(account_id="acct-42", secret=secret)


def _rows(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(sync_credentials).order_by(sync_credentials.c.id)).all()


def _plaintext_row(engine, org_id, platform="liveramp"):
    with engine.begin() as conn:
        conn.execute(sa.insert(sync_credentials).values(
            org_id=org_id, platform=platform, encrypted=False,
            secret=json.dumps({"account_id": "acct-1", "secret": SECRET})))


def test_round_trip_stores_only_ciphertext(engine, make_org):
    org = make_org("Acme")
    ring = key_ring(OLD)
    with engine.begin() as conn:
        credentials.save(conn, org, "the_trade_desk", _creds(), keys=ring)
        loaded = credentials.load(conn, org, "the_trade_desk", keys=ring)
        assert credentials.presence(conn, org) == {"liveramp": False, "the_trade_desk": True}
    assert loaded.secret.get_secret_value() == SECRET and loaded.account_id == "acct-42"
    assert SECRET not in repr(loaded) and SECRET not in str(loaded)
    (row,) = _rows(engine)
    assert row.encrypted and SECRET not in row.secret and "acct-42" not in row.secret


def test_rotation_re_encrypts_under_the_new_key(engine, make_org):
    org = make_org("Acme")
    with engine.begin() as conn:
        credentials.save(conn, org, "liveramp", _creds(), keys=key_ring(OLD))
    before = _rows(engine)[0].secret
    with engine.begin() as conn:
        report = credentials.encrypt_all(conn, keys=key_ring(f"{NEW},{OLD}"))
    assert (report.encrypted, report.rotated, report.unchanged) == (0, 1, 0)
    assert _rows(engine)[0].secret != before
    with engine.begin() as conn:  # the old key can now be dropped
        assert credentials.load(conn, org, "liveramp", keys=key_ring(NEW)).secret \
            .get_secret_value() == SECRET
        again = credentials.encrypt_all(conn, keys=key_ring(NEW))
    assert (again.rotated, again.unchanged) == (0, 1)


def test_wrong_key_is_a_clear_error_and_changes_nothing(engine, make_org):
    org, other = make_org("Acme"), make_org("Globex")
    with engine.begin() as conn:
        credentials.save(conn, org, "liveramp", _creds(), keys=key_ring(OLD))
    _plaintext_row(engine, other)
    before = _rows(engine)
    with pytest.raises(CredentialsKeyError, match="does not decrypt") as caught, \
            engine.begin() as conn:
        credentials.encrypt_all(conn, keys=key_ring(NEW))
    assert SECRET not in str(caught.value)
    assert _rows(engine) == before
    with pytest.raises(CredentialsKeyError, match="wrong or rotated-out key"), \
            engine.connect() as conn:
        credentials.load(conn, org, "liveramp", keys=key_ring(NEW))


def test_missing_or_malformed_key_is_named():
    with pytest.raises(CredentialsKeyError, match="CREDENTIALS_KEY is not set"):
        key_ring("")
    with pytest.raises(CredentialsKeyError, match="CREDENTIALS_KEY is malformed"):
        key_ring("not-a-key")


def test_encrypt_credentials_cli_dry_run_then_real(app_env, engine, make_org, monkeypatch,
                                                   capsys):
    org = make_org("Acme")
    _plaintext_row(engine, org)
    monkeypatch.delenv("CREDENTIALS_KEY", raising=False)
    get_settings.cache_clear()
    assert main(["encrypt-credentials"]) == 1
    assert "CREDENTIALS_KEY is not set" in capsys.readouterr().err
    assert not _rows(engine)[0].encrypted

    monkeypatch.setenv("CREDENTIALS_KEY", OLD)
    get_settings.cache_clear()
    assert main(["encrypt-credentials", "--dry-run"]) == 0
    assert "would encrypt 1 plaintext rows" in capsys.readouterr().out
    assert not _rows(engine)[0].encrypted
    assert main(["encrypt-credentials"]) == 0
    out = capsys.readouterr().out
    assert "encrypted 1 plaintext rows" in out and SECRET not in out
    row = _rows(engine)[0]
    assert row.encrypted and SECRET not in row.secret
    with engine.connect() as conn:
        assert credentials.load(conn, org, "liveramp").secret.get_secret_value() == SECRET


def test_plaintext_rows_are_not_served_until_encrypted(engine, make_org):
    org = make_org("Acme")
    _plaintext_row(engine, org)
    with pytest.raises(CredentialsKeyError, match="stored unencrypted"), engine.connect() as conn:
        credentials.load(conn, org, "liveramp", keys=key_ring(OLD))


def test_set_credentials_cli_stores_them_encrypted_and_names_bad_input(
        app_env, engine, make_org, monkeypatch, capsys):
    org = make_org("Acme")
    monkeypatch.setenv("CREDENTIALS_KEY", OLD)
    get_settings.cache_clear()
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{SECRET}\n"))
    assert main(["set-credentials", "--org", str(org), "--platform", "liveramp",
                 "--account-id", "acct-9", "--secret-stdin"]) == 0
    out = capsys.readouterr().out
    assert f"Acme (organisation {org})" in out and SECRET not in out
    row = _rows(engine)[0]
    assert row.encrypted and SECRET not in row.secret
    with engine.connect() as conn:
        stored = credentials.load(conn, org, "liveramp")
    assert (stored.account_id, stored.secret.get_secret_value()) == ("acct-9", SECRET)

    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert main(["set-credentials", "--org", str(org), "--platform", "liveramp",
                 "--account-id", "acct-9", "--secret-stdin"]) == 2
    assert "secret is empty" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    assert main(["set-credentials", "--org", "999999", "--platform", "liveramp",
                 "--account-id", "acct-9", "--secret-stdin"]) == 2
    assert "No organisation with id 999999" in capsys.readouterr().err
