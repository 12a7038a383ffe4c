"""A home with one audit waiting for a person, the web app over it, and a token for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.session import Session
from app.settings import load_settings
from app.web.access import TokenStore
from app.web.app import create_app
from app.web.server import token_store
from sandbox import GOOGLE_ACCOUNT


@pytest.fixture
def audited(home: Path) -> Session:
    session = Session(load_settings())
    session.audit(GOOGLE_ACCOUNT)
    return session


@pytest.fixture
def tokens(audited: Session) -> TokenStore:
    return token_store(audited)


@pytest.fixture
def token(tokens: TokenStore) -> str:
    return tokens.issue("maria")


@pytest.fixture
def client(audited: Session, tokens: TokenStore) -> Iterator[TestClient]:
    with TestClient(create_app(audited, tokens)) as client:
        yield client
