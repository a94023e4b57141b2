import os
import stat

import pytest

from qrstudio_box.webhooks.secretbox import KEY_FILE_NAME, SecretBox, SecretKeyError
from qrstudio_box.webhooks.signing import new_secret


def test_round_trip_and_no_plaintext(tmp_path):
    box = SecretBox.load_or_create(tmp_path)
    secret = new_secret()
    sealed = box.seal(secret)
    assert sealed.startswith("aesgcm1:")
    assert secret not in sealed and secret.removeprefix("whsec_") not in sealed
    assert box.seal(secret) != sealed  # a fresh nonce every time
    assert box.open(sealed) == secret
    # the same key file opens it from another process / start
    assert SecretBox.load(tmp_path).open(sealed) == secret


def test_key_file_is_private_and_stable(tmp_path):
    SecretBox.load_or_create(tmp_path)
    path = tmp_path / KEY_FILE_NAME
    first = path.read_bytes()
    assert len(first) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    SecretBox.load_or_create(tmp_path)
    assert path.read_bytes() == first


def test_wrong_key_or_missing_key_is_a_clear_error(tmp_path):
    sealed = SecretBox.load_or_create(tmp_path / "a").seal(new_secret())
    other = SecretBox.load_or_create(tmp_path / "b")
    with pytest.raises(SecretKeyError, match="wrong or replaced key"):
        other.open(sealed)
    with pytest.raises(SecretKeyError, match="is missing"):
        SecretBox.load(tmp_path / "c")
    with pytest.raises(SecretKeyError, match="known sealed format"):
        other.open("whsec_plaintext")
