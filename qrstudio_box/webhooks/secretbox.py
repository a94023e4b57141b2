"""Webhook secrets at rest: AES-256-GCM with a key file kept in data_dir.

The database stores only ``aesgcm1:<base64url(nonce || ciphertext+tag)>``, so a copy of the
database file alone (a leaked backup, a shared bug report) reveals no secret. The key lives in
``<data_dir>/webhook-secrets.key`` (32 random bytes, mode 0600), created on first start; back it
up together with the database, since without it every webhook needs a rotate.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..keyfiles import read_or_create

KEY_FILE_NAME = "webhook-secrets.key"
KEY_BYTES = 32
NONCE_BYTES = 12
PREFIX = "aesgcm1:"
# Binds ciphertexts to this purpose: a blob made for something else does not decrypt here.
ASSOCIATED_DATA = b"qrstudio-box webhook secret v1"


class SecretKeyError(RuntimeError):
    """The key file is missing, unreadable, or not the key these secrets were sealed with."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise SecretKeyError(f"webhook secret key must be {KEY_BYTES} bytes, got {len(key)}")
        self._aead = AESGCM(key)

    @classmethod
    def load(cls, data_dir: str | os.PathLike) -> SecretBox:
        path = Path(data_dir) / KEY_FILE_NAME
        try:
            return cls(path.read_bytes())
        except FileNotFoundError:
            raise SecretKeyError(f"{path} is missing") from None

    @classmethod
    def load_or_create(cls, data_dir: str | os.PathLike) -> SecretBox:
        return cls(
            read_or_create(Path(data_dir) / KEY_FILE_NAME, lambda: secrets.token_bytes(KEY_BYTES))
        )

    def seal(self, plaintext: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), ASSOCIATED_DATA)
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            raise SecretKeyError("stored webhook secret is not in a known sealed format")
        blob = base64.urlsafe_b64decode(stored[len(PREFIX) :])
        try:
            plain = self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], ASSOCIATED_DATA)
        except InvalidTag:
            raise SecretKeyError(
                f"the webhook secret does not decrypt with {KEY_FILE_NAME} "
                "(wrong or replaced key): "
                "restore the key file, or rotate the secret"
            ) from None
        return plain.decode("utf-8")
