"""How a camera checks who is calling: HTTP Digest (RFC 7616) for its snapshot and the WS-Security
UsernameToken (PasswordDigest) on its SOAP calls, each with its replay defence. Thread-safe: the
camera's HTTP server answers on several threads.

Each check returns None when the caller is authorised, else the reason in a few words (for the
device's log; never a secret or the request itself).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .http_face import basic_ok
from .soap import NS, parse_datetime

CREATED_WINDOW_S = 300.0  # seconds between a UsernameToken's Created and the camera's clock
DIGEST_NONCE_S = 300.0  # seconds an HTTP Digest nonce stays valid (then stale=true)
MAX_DIGEST_NONCES = 256  # outstanding Digest nonces per camera (the oldest is forgotten first)


class DigestAuth:
    """HTTP Basic, or Digest as RFC 7616 has it: MD5, qop=auth, a nonce this server issued and that
    is younger than ``DIGEST_NONCE_S``, a nonce count that grows with each use of a nonce, and a
    ``uri`` equal to the request target. ``password`` is read at each check (set after start)."""

    def __init__(self, realm: str, user: str, password: Callable[[], str], *, clock=time.monotonic) -> None:
        self.realm, self.user, self.password, self.clock = realm, user, password, clock
        self.nonces: dict[str, list[float]] = {}  # nonce -> [issued (clock s), last nonce count]
        self._lock = threading.Lock()

    def challenge(self, *, stale: bool = False) -> str:
        """A WWW-Authenticate value with a fresh nonce (``stale=true`` after an expired one)."""
        nonce = secrets.token_hex(16)
        now = self.clock()
        with self._lock:
            self.nonces = {k: v for k, v in self.nonces.items() if now - v[0] < DIGEST_NONCE_S}
            while len(self.nonces) >= MAX_DIGEST_NONCES:
                del self.nonces[next(iter(self.nonces))]
            self.nonces[nonce] = [now, 0]
        return f'Digest realm="{self.realm}", qop="auth", algorithm=MD5, nonce="{nonce}"' + (
            ", stale=true" if stale else ""
        )

    def check(self, header: str, method: str, uri: str) -> str | None:
        """None when the Authorization ``header`` authorises ``method uri``, else why not
        ("stale nonce" for a nonce of ours past ``DIGEST_NONCE_S``)."""
        user, pw = self.user, self.password()
        if header.startswith("Basic "):
            return None if basic_ok(header, user, pw) else "wrong Basic credentials"
        if not header.startswith("Digest "):
            return "no credentials"
        try:
            f = urllib.request.parse_keqv_list(urllib.request.parse_http_list(header[7:]))
        except ValueError:
            return "Digest parameters not parsed"
        if not hmac.compare_digest(f.get("username", "").encode("utf-8", "replace"), user.encode()):
            return "unknown user"
        if f.get("realm") != self.realm:
            return "wrong realm"
        if f.get("algorithm", "MD5").upper() != "MD5":
            return "algorithm: expected MD5"
        if f.get("qop") != "auth":
            return "qop: expected auth"
        if f.get("uri") != uri:
            return "uri: not the request target"
        nc_text, cnonce, nonce = f.get("nc", ""), f.get("cnonce", ""), f.get("nonce", "")
        if not re.fullmatch(r"[0-9a-fA-F]{8}", nc_text) or not cnonce:
            return "nc (8 hex digits) and cnonce required"
        ha1 = hashlib.md5(f"{user}:{self.realm}:{pw}".encode()).hexdigest()  # noqa: S324 - RFC 7616 MD5
        ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()  # noqa: S324
        expect = hashlib.md5(f"{ha1}:{nonce}:{nc_text}:{cnonce}:auth:{ha2}".encode()).hexdigest()  # noqa: S324
        if not hmac.compare_digest(expect.encode(), f.get("response", "").encode("utf-8", "replace")):
            return "wrong digest"
        nc, now = int(nc_text, 16), self.clock()
        with self._lock:
            state = self.nonces.get(nonce)
            if state is None:
                return "nonce not issued by this camera"
            if now - state[0] >= DIGEST_NONCE_S:
                del self.nonces[nonce]
                return "stale nonce"
            if nc <= state[1]:
                return "nonce count not increasing (a replay)"
            state[1] = nc
        return None


class UsernameTokenAuth:
    """WS-Security UsernameToken with PasswordDigest = Base64(SHA-1(nonce + Created + password)):
    Created within ``CREATED_WINDOW_S`` of the clock (no zone means UTC, as WS-Security's times
    are), and a nonce not seen before, compared as decoded bytes (a nonce that is not canonical
    base64 is refused, so re-encoding a captured one does not make it new)."""

    def __init__(self, user: str, password: Callable[[], str], *, clock=time.monotonic) -> None:
        self.user, self.password, self.clock = user, password, clock
        self.seen: dict[bytes, float] = {}  # decoded nonce -> when (clock s)
        self._lock = threading.Lock()

    def check(self, header: Any) -> str | None:
        """None when the SOAP ``header`` element carries a good token, else the reason."""
        if header is None:
            return "no WS-Security header"
        tok = header.find(f".//{{{NS['wsse']}}}UsernameToken")
        if tok is None:
            return "no UsernameToken"
        user = tok.findtext(f"{{{NS['wsse']}}}Username")
        pw_el = tok.find(f"{{{NS['wsse']}}}Password")
        nonce = tok.findtext(f"{{{NS['wsse']}}}Nonce")
        created = tok.findtext(f"{{{NS['wsu']}}}Created")
        if user != self.user or pw_el is None or not nonce or not created:
            return "unknown user or incomplete token"
        if not (pw_el.get("Type") or "").endswith("#PasswordDigest"):
            return "PasswordDigest required"
        nonce_text = nonce.strip()
        try:
            raw_nonce = base64.b64decode(nonce_text, validate=True)
        except (binascii.Error, ValueError):
            return "Nonce: expected base64"
        if not raw_nonce or base64.b64encode(raw_nonce).decode() != nonce_text:
            return "Nonce: expected canonical base64 of at least one byte"
        try:
            when = parse_datetime(created)
        except ValueError as exc:
            return f"Created: {exc}"
        if abs((datetime.now(UTC) - when).total_seconds()) > CREATED_WINDOW_S:
            return "Created outside the time window"
        digest = base64.b64encode(hashlib.sha1(raw_nonce + created.encode() + self.password().encode()).digest())
        if not hmac.compare_digest(digest, (pw_el.text or "").strip().encode("utf-8", "replace")):
            return "wrong digest"
        now = self.clock()
        with self._lock:
            self.seen = {k: v for k, v in self.seen.items() if now - v < 2 * CREATED_WINDOW_S}
            if raw_nonce in self.seen:
                return "nonce replayed"
            self.seen[raw_nonce] = now
        return None
