"""The certificate and key that sign the videos' Content Credentials.

The operator's own (I2V_C2PA_CERT: the PEM chain, signing certificate first; I2V_C2PA_KEY:
its unencrypted PEM key), or, when none is set, a pair made once under the data folder: a
local CA and a signing certificate it issued, the CA's key thrown away at once (nothing on
disk can issue another). C2PA refuses a self-signed leaf, so the chain is CA + leaf, with
key identifiers and the digitalSignature key usage. A local certificate that expired is
replaced by a new pair at the next start.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bot.outputs import write_atomic

log = logging.getLogger(__name__)

CERT_SETTING = "I2V_C2PA_CERT"
KEY_SETTING = "I2V_C2PA_KEY"
LOCAL_FOLDER = "c2pa"  # under the data folder
LOCAL_CHAIN = "signer.pem"  # the signing certificate, then the CA's
LOCAL_KEY = "signer.key"  # mode 0600
LOCAL_VALID = datetime.timedelta(days=2 * 365)
ORGANISATION = "i2v-bot operator"


class ProvenanceError(Exception):
    """The signing certificate or key cannot be used: one line naming the setting."""


@dataclass(frozen=True)
class Credentials:
    chain_pem: bytes  # the signing certificate first
    key_pem: bytes
    algorithm: str  # as c2pa names it: es256, ps256, ed25519...
    subject: str
    issuer: str
    not_after: datetime.datetime
    source: str  # where it came from, for `doctor` and the log
    made_now: bool = False  # a local pair made by this start

    @property
    def anchor_pem(self) -> bytes:
        """The last certificate of the chain: what a verifier would have to trust."""
        return x509.load_pem_x509_certificates(self.chain_pem)[-1].public_bytes(
            serialization.Encoding.PEM)


def load_credentials(cert: Path | None, key: Path | None, data_dir: Path) -> Credentials:
    """The operator's certificate when one is set, else the local one (made if needed)."""
    if cert is not None or key is not None:
        return operator_credentials(cert, key)
    folder = data_dir / LOCAL_FOLDER
    current = read_local(folder)
    if current is not None and current.not_after > _now():
        return current
    if current is not None:
        log.warning("the local signing certificate expired on %s; making a new one",
                    current.not_after.date())
    return make_local(folder)


def existing_credentials(cert: Path | None, key: Path | None, data_dir: Path
                         ) -> Credentials | None:
    """What `load_credentials` would sign with, without making anything (`doctor`,
    `verify`): None before the first start made the local pair."""
    if cert is not None or key is not None:
        return operator_credentials(cert, key)
    return read_local(data_dir / LOCAL_FOLDER)


def operator_credentials(cert: Path | None, key: Path | None) -> Credentials:
    if cert is None:
        raise ProvenanceError(f"{KEY_SETTING} is set but {CERT_SETTING} is not: set both "
                              "(the certificate chain and its key, PEM files), or neither.")
    if key is None:
        raise ProvenanceError(f"{CERT_SETTING} is set but {KEY_SETTING} is not: set both "
                              "(the certificate chain and its key, PEM files), or neither.")
    cert_name, key_name = f"{CERT_SETTING}={cert}", f"{KEY_SETTING}={key}"
    credentials = _parse(_read(cert, cert_name), _read(key, key_name), cert_name, key_name)
    if credentials.not_after <= _now():
        raise ProvenanceError(f"The certificate in {CERT_SETTING}={cert} expired on "
                              f"{credentials.not_after:%Y-%m-%d}: renew it.")
    return credentials


def read_local(folder: Path) -> Credentials | None:
    """The local pair, if both files are there; a broken one is an error naming the file."""
    chain, key = folder / LOCAL_CHAIN, folder / LOCAL_KEY
    if not (chain.is_file() and key.is_file()):
        return None
    chain_name, key_name = f"the local certificate {chain}", f"the local key {key}"
    return _parse(_read(chain, chain_name), _read(key, key_name), chain_name, key_name)


def make_local(folder: Path) -> Credentials:
    """A new local CA and a signing certificate it issued; the key written first (0600),
    the chain last, each atomically: a pair is complete only once the chain exists."""
    now = _now()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("i2v-bot local CA")
    ca = _builder(ca_name, ca_name, ca_key.public_key(), now, LOCAL_VALID) \
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True) \
        .add_extension(_usage(cert_sign=True), critical=True) \
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False) \
        .sign(ca_key, hashes.SHA256())
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _builder(_name("i2v-bot signer"), ca_name, key.public_key(), now, LOCAL_VALID) \
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True) \
        .add_extension(_usage(cert_sign=False), critical=True) \
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False) \
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False) \
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False) \
        .sign(ca_key, hashes.SHA256())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    chain_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, ca))
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / LOCAL_KEY, key_pem, mode=0o600)
    write_atomic(folder / LOCAL_CHAIN, chain_pem)
    log.info("made a local signing certificate for Content Credentials in %s (valid until "
             "%s)", folder, leaf.not_valid_after_utc.date())
    credentials = _parse(chain_pem, key_pem, f"the local certificate {folder / LOCAL_CHAIN}",
                         f"the local key {folder / LOCAL_KEY}")
    return replace(credentials, made_now=True)


def _read(path: Path, name: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ProvenanceError(f"Cannot read {name}: {exc.strerror}.") from None


def _parse(chain_pem: bytes, key_pem: bytes, cert_setting: str, key_setting: str
           ) -> Credentials:
    """Both files read and matched; `cert_setting` and `key_setting` name them in errors."""
    try:
        chain = x509.load_pem_x509_certificates(chain_pem)
    except ValueError:
        raise ProvenanceError(f"{cert_setting} holds no PEM certificate (-----BEGIN "
                              "CERTIFICATE-----): give the chain, signing certificate "
                              "first.") from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise ProvenanceError(f"The key in {key_setting} is encrypted: give it unencrypted "
                              "(openssl pkey -in key.pem -out plain.pem), readable by this "
                              "user only.") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ProvenanceError(f"{key_setting} holds no PEM private key this bot can "
                              "read.") from None
    leaf = chain[0]
    if leaf.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo) != \
            key.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo):
        raise ProvenanceError(f"The key in {key_setting} is not the key of the first "
                              f"certificate in {cert_setting}.")
    return Credentials(chain_pem=chain_pem, key_pem=key_pem, algorithm=_algorithm(key,
                       key_setting), subject=_common_name(leaf.subject),
                       issuer=_common_name(leaf.issuer), not_after=leaf.not_valid_after_utc,
                       source=cert_setting)


def _algorithm(key: object, setting: str) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        names = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name in names:
            return names[key.curve.name]
    elif isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise ProvenanceError(f"The key in {setting} is of a kind C2PA does not sign with: use "
                          "an EC P-256/P-384/P-521, RSA or Ed25519 key.")


def _common_name(name: x509.Name) -> str:
    names = name.get_attributes_for_oid(NameOID.COMMON_NAME) or \
        name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(names[0].value) if names else name.rfc4514_string()


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION)])


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey,
             now: datetime.datetime, valid: datetime.timedelta) -> x509.CertificateBuilder:
    return x509.CertificateBuilder().subject_name(subject).issuer_name(issuer) \
        .public_key(public_key).serial_number(x509.random_serial_number()) \
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + valid)


def _usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not cert_sign, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False,
                         decipher_only=False)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
