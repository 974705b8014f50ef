"""Reading Content Credentials the way any C2PA tool does (c2pa.Reader, nothing of the bot),
and certificates an operator might bring, for the tests of every platform."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

AI_MADE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
OFFLINE = {"verify": {"remote_manifest_fetch": False}}


def manifest_store(path: Path) -> dict[str, Any]:
    """The whole store c2pa reads from a file: manifests, validation state and results."""
    context = c2pa.Context(settings=c2pa.Settings.from_dict(OFFLINE))
    with c2pa.Reader(str(path), context=context) as reader:
        return json.loads(reader.json())


def active_manifest(path: Path) -> dict[str, Any]:
    store = manifest_store(path)
    return store["manifests"][store["active_manifest"]]


def actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [action for assertion in manifest["assertions"]
            if assertion["label"].startswith("c2pa.actions")
            for action in assertion["data"]["actions"]]


def made_by_ai(path: Path) -> dict[str, Any]:
    """The action that says a model made the video: it must be there."""
    found = [a for a in actions(active_manifest(path)) if a.get("digitalSourceType") == AI_MADE]
    assert found, f"{path} has no action with source type trainedAlgorithmicMedia"
    return found[0]


def flip_a_video_byte(path: Path) -> None:
    """Change one byte of the coded pictures (inside the mdat box), as an edit would."""
    data = bytearray(path.read_bytes())
    at = data.index(b"mdat") + 64
    assert at < len(data)
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def operator_certificate(folder: Path, name: str = "Example Newsroom signer",
                         self_signed: bool = False) -> tuple[Path, Path]:
    """A certificate chain and key as an operator would bring them (PEM files): issued by
    their own CA, or (refused by C2PA) a lone self-signed certificate."""
    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Newsroom")])
    ca_key = key if self_signed else ec.generate_private_key(ec.SECP256R1())
    ca_name = subject if self_signed else x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "Example Newsroom CA"),
         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Newsroom")])

    def base(subj: x509.Name, public: Any) -> x509.CertificateBuilder:
        return x509.CertificateBuilder().subject_name(subj).issuer_name(ca_name) \
            .public_key(public).serial_number(x509.random_serial_number()) \
            .not_valid_before(now - datetime.timedelta(days=1)) \
            .not_valid_after(now + datetime.timedelta(days=90))

    signing_only = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
    leaf = base(subject, key.public_key()) \
        .add_extension(signing_only, critical=True) \
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False) \
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    certificates = []
    if not self_signed:
        ca = base(ca_name, ca_key.public_key()) \
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True) \
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True) \
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                           False).sign(ca_key, hashes.SHA256())
        leaf = leaf.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)
        certificates.append(ca)
    certificates.insert(0, leaf.sign(ca_key, hashes.SHA256()))
    cert_path, key_path = folder / "chain.pem", folder / "signer.key"
    cert_path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM)
                                   for c in certificates))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
