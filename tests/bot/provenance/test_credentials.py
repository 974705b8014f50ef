"""The signing certificate: the operator's own, or a local pair made once and kept; every
way it can be unusable is one line naming the setting."""

from __future__ import annotations

import datetime
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bot.provenance import credentials as creds
from bot.provenance.credentials import ProvenanceError, load_credentials
from bot.provenance.signing import ContentCredentials
from tests.credentials import operator_certificate


def test_a_local_pair_is_made_once_with_a_private_key_and_then_kept(tmp_path):
    first = load_credentials(None, None, tmp_path)
    key = tmp_path / "c2pa" / "signer.key"
    assert first.made_now and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(first.chain_pem.split(b"BEGIN CERTIFICATE")) == 3  # CA + signing certificate
    assert not list((tmp_path / "c2pa").glob(".*"))  # no temporary file left
    again = load_credentials(None, None, tmp_path)
    assert not again.made_now and again.chain_pem == first.chain_pem
    assert ContentCredentials(first, weights={}).notice.startswith(
        "Content Credentials: made local certificate")
    assert ContentCredentials(again, weights={}).notice is None


def test_an_expired_local_certificate_is_replaced_at_start(tmp_path, monkeypatch):
    first = load_credentials(None, None, tmp_path)
    later = first.not_after + datetime.timedelta(days=1)
    monkeypatch.setattr(creds, "_now", lambda: later)
    renewed = load_credentials(None, None, tmp_path)
    assert renewed.made_now and renewed.chain_pem != first.chain_pem
    assert renewed.not_after > later


def test_the_operators_certificate_is_used_when_set(tmp_path):
    cert, key = operator_certificate(tmp_path)
    used = load_credentials(cert, key, tmp_path / "data")
    assert used.subject == "Example Newsroom signer" and used.algorithm == "es256"
    assert used.source == f"I2V_C2PA_CERT={cert}"
    assert not (tmp_path / "data" / "c2pa").exists()  # no local pair made beside it
    ContentCredentials(used, weights={})  # C2PA accepts it


def unusable(tmp_path):
    cert, key = operator_certificate(tmp_path)
    other = tmp_path / "other.key"
    other.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    locked = tmp_path / "locked.key"
    locked.write_bytes(serialization.load_pem_private_key(key.read_bytes(), None)
                       .private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(b"secret")))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("this is not a PEM file\n")
    return [
        ((cert, None), "I2V_C2PA_CERT is set but I2V_C2PA_KEY is not"),
        ((None, key), "I2V_C2PA_KEY is set but I2V_C2PA_CERT is not"),
        ((cert, tmp_path / "missing.key"), "Cannot read I2V_C2PA_KEY="),
        ((cert, garbage), "I2V_C2PA_KEY="),
        ((garbage, key), "I2V_C2PA_CERT="),
        ((cert, other), "is not the key of the first certificate in I2V_C2PA_CERT"),
        ((cert, locked), "is encrypted"),
    ]


def test_every_unusable_certificate_or_key_is_one_line_naming_the_setting(tmp_path):
    for (cert, key), words in unusable(tmp_path):
        with pytest.raises(ProvenanceError) as refused:
            load_credentials(cert, key, tmp_path / "data")
        message = str(refused.value)
        assert words in message and "\n" not in message, message


def test_a_self_signed_certificate_is_refused_by_c2pa_at_start(tmp_path):
    cert, key = operator_certificate(tmp_path, self_signed=True)
    loaded = load_credentials(cert, key, tmp_path)  # a readable, matching pair...
    with pytest.raises(ProvenanceError) as refused:
        ContentCredentials(loaded, weights={})  # ...that C2PA will not sign with
    message = str(refused.value)
    assert message.startswith(f"C2PA refuses I2V_C2PA_CERT={cert}") and "\n" not in message
