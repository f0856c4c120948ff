"""The case's Ed25519 key pair, made with the case, and checkpoint signatures.

The private key signs checkpoints of the ledger (entry count and head hash);
whoever holds it can sign, so it is written with mode 0600 inside a 0700
folder. The public key is exported as ``case-public-key.pem`` and its raw bytes
are recorded in the ledger's first entry, so a copy of the public key (or its
fingerprint) kept outside the case anchors the whole chain.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from redaction.fsutil import atomic_path

from .hashing import sha256_bytes
from .layout import CaseLayout


def fingerprint(public_raw: bytes) -> str:
    """SHA-256 of the 32 raw public-key bytes, hex: short enough to write down."""
    return sha256_bytes(public_raw)


def public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _write(path: Path, data: bytes, mode: int) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        os.chmod(tmp, mode)


def create_key_pair(layout: CaseLayout) -> bytes:
    """Make the case key pair; return the raw public key."""
    key = Ed25519PrivateKey.generate()
    layout.keys.mkdir(mode=0o700, exist_ok=True)
    os.chmod(layout.keys, 0o700)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(layout.private_key, private_pem, 0o600)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write(layout.public_key, public_pem, 0o444)
    return public_raw(key)


def load_private_key(layout: CaseLayout) -> Ed25519PrivateKey | None:
    """The signing key, or None when it is absent (moved offline, say) or unreadable."""
    try:
        data = layout.private_key.read_bytes()
    except OSError:
        return None
    with contextlib.suppress(ValueError, TypeError):
        key = serialization.load_pem_private_key(data, password=None)
        if isinstance(key, Ed25519PrivateKey):
            return key
    return None


def load_public_key_file(path: Path) -> bytes | None:
    """Raw bytes of the PEM public key at ``path``; None if missing or not Ed25519."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    with contextlib.suppress(ValueError, TypeError):
        key = serialization.load_pem_public_key(data)
        if isinstance(key, Ed25519PublicKey):
            return public_raw(key)
    return None


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return key.sign(message).hex()


def signature_valid(public: bytes, message: bytes, signature_hex: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
