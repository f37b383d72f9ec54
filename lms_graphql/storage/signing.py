"""HMAC-signed, expiring URLs for the objects the server itself serves (/files/...)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import quote, urlencode

FILES_PATH = "/files"


class UrlSigner:
    """``secret``: asked for on first use (a generated one is written only if something is signed)."""

    def __init__(self, secret: Callable[[], bytes]) -> None:
        self._secret = secret

    def _signature(self, method: str, base: str, key: str, expires: int, extra: str) -> str:
        message = f"{method}\n{base}/{key}\n{expires}\n{extra}".encode()
        digest = hmac.new(self._secret(), message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def url(self, method: str, key: str, expires_in: int, *, base: str = FILES_PATH, **extra: str | int) -> str:
        """The path (under ``base``, the route that serves it) and query of a signed request for
        ``key``, valid ``expires_in`` seconds."""
        expires = int(time.time()) + expires_in
        fields = {name: str(value) for name, value in sorted(extra.items())}
        signature = self._signature(method, base, key, expires, urlencode(fields))
        query = urlencode({**fields, "expires": expires, "signature": signature})
        return f"{base}/{quote(key)}?{query}"

    def verify(
        self, method: str, key: str, query: dict[str, str], extra: tuple[str, ...] = (), *, base: str = FILES_PATH
    ) -> bool:
        """True when ``query`` carries a signature of this request that has not expired."""
        try:
            expires = int(query.get("expires", ""))
        except ValueError:
            return False
        if expires < time.time():
            return False
        fields = {name: query.get(name, "") for name in sorted(extra)}
        expected = self._signature(method, base, key, expires, urlencode(fields))
        return hmac.compare_digest(expected.encode(), query.get("signature", "").encode("utf-8", "replace"))
