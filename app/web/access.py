"""Who may use the web app: access tokens stored hashed, browser logins, and their CSRF tokens.

A token names its reviewer: what a person approves through the web is recorded under that name, never
under one typed into a form.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import threading
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from ads.errors import AdpilotError, ConfigurationError

# scrypt's cost: about 30 ms and 16 MiB a check on these machines, paid once per token (checks are cached).
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 2**20, "dklen": 32}
TOKEN_PREFIX = "adp_"


class StoredToken(BaseModel):
    reviewer: str = Field(min_length=1, max_length=80)
    salt: str
    digest: str
    created_at: dt.datetime


class TokenFile(BaseModel):
    tokens: list[StoredToken] = Field(default_factory=list)


class Reviewer(BaseModel):
    """The person behind a request: the name the change log records."""

    name: str


def _digest(token: str, salt: bytes) -> str:
    return hashlib.scrypt(token.encode(), salt=salt, **_SCRYPT).hex()


class TokenStore:
    """`web_tokens.json` in the data directory: one scrypt digest per token, readable only by its owner."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._verified: dict[str, str] = {}  # sha256 of a token already checked → reviewer
        self._lock = threading.Lock()

    def _read(self) -> TokenFile:
        if not self.path.exists():
            return TokenFile()
        try:
            return TokenFile.model_validate_json(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigurationError(f"{self.path}: cannot be read ({error})") from None
        except ValidationError as error:
            where = ".".join(str(part) for part in error.errors()[0]["loc"]) or "(file)"
            raise ConfigurationError(f"{self.path}: not a token file: {where}: {error.errors()[0]['msg']}") from None

    def empty(self) -> bool:
        return not self._read().tokens

    def issue(self, reviewer: str) -> str:
        """A new token for `reviewer`; only its digest is kept, so this is the one time it can be shown."""
        reviewer = reviewer.strip()
        if not reviewer or len(reviewer) > 80 or not reviewer.isprintable():
            raise AdpilotError("a reviewer name is 1 to 80 printable characters")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        with self._lock:
            stored = self._read()
            stored.tokens.append(
                StoredToken(
                    reviewer=reviewer, salt=salt.hex(), digest=_digest(token, salt), created_at=dt.datetime.now(dt.UTC)
                )
            )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(".part")
            # Written whole and owner-only, then swapped in: a crash never leaves half a token file.
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(stored.model_dump_json(indent=2))
            os.replace(partial, self.path)
        return token

    def reviewer(self, token: str) -> Reviewer | None:
        """Whose token this is, or None. Every stored digest is compared, in constant time each."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        key = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            if key in self._verified:
                return Reviewer(name=self._verified[key])
            for stored in self._read().tokens:
                if hmac.compare_digest(_digest(token, bytes.fromhex(stored.salt)), stored.digest):
                    self._verified[key] = stored.reviewer
                    return Reviewer(name=stored.reviewer)
        return None


class Login(BaseModel):
    reviewer: Reviewer
    csrf: str
    started_at: dt.datetime


class Logins:
    """Browser logins of this process, by the random id in their cookie. A restart logs everyone out."""

    def __init__(self) -> None:
        self._logins: dict[str, Login] = {}
        self._lock = threading.Lock()

    def start(self, reviewer: Reviewer) -> tuple[str, Login]:
        login_id = secrets.token_urlsafe(32)
        login = Login(reviewer=reviewer, csrf=secrets.token_urlsafe(32), started_at=dt.datetime.now(dt.UTC))
        with self._lock:
            self._logins[login_id] = login
        return login_id, login

    def get(self, login_id: str | None) -> Login | None:
        with self._lock:
            return self._logins.get(login_id or "")

    def end(self, login_id: str | None) -> None:
        with self._lock:
            self._logins.pop(login_id or "", None)


def same_secret(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
