"""The receipt keys (``RECEIPT_KEYS``) for the app and the operator commands.

``RECEIPT_KEYS`` is ``id:secret[,id:secret…]``: the first key signs new receipts, every key
verifies. Unset, a key is generated once into the instance folder (``receipt_keys``, mode 0600),
like the cookie secret, so a single node works out of the box. Several nodes on one database
must set the same ``RECEIPT_KEYS`` everywhere: a generated key exists on one machine only, and
receipts signed with it cannot be verified anywhere else. The receipt key is never the cookie
``SECRET_KEY`` (refused), so a leaked cookie secret cannot forge receipts and vice versa.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from website.consent.proof import KeyRing, ProofError
from website.settings import persistent_secret

from .errors import StorageError

KEY_FILE = "receipt_keys"


class ReceiptKeyError(StorageError):
    """``RECEIPT_KEYS`` cannot be used (the message says why)."""


def persistent_receipt_keys(instance_path: str | os.PathLike[str]) -> str:
    """The instance's generated ``RECEIPT_KEYS`` value, creating it once.

    Created like the cookie key (:func:`website.settings.persistent_secret`), so workers that
    start at once all read the same complete key.
    """
    return persistent_secret(
        Path(instance_path) / KEY_FILE,
        lambda: f"local-{secrets.token_hex(4)}:{secrets.token_hex(32)}",
    )


def keyring_from_config(
    config: Mapping[str, Any], instance_path: str, *, create: bool = True
) -> KeyRing:
    """The key ring from ``RECEIPT_KEYS``, or the instance's generated key when unset.

    ``create=False`` (``receipts verify``) never makes a key: a verifier with a fresh key would
    call every receipt altered; it says what is missing instead.
    """
    value = config.get("RECEIPT_KEYS")
    if not value:
        if not create and not (Path(instance_path) / KEY_FILE).exists():
            raise ReceiptKeyError(
                f"no receipt keys: set RECEIPT_KEYS (or run where {Path(instance_path) / KEY_FILE}"
                " is), the keys the receipts were signed with"
            )
        value = persistent_receipt_keys(instance_path)
    try:
        return KeyRing.parse(str(value), cookie_secret=config.get("SECRET_KEY"))
    except ProofError as exc:
        raise ReceiptKeyError(str(exc)) from None
