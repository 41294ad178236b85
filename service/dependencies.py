"""FastAPI dependencies: the app's components, taken from the app that serves the request."""

from __future__ import annotations

from fastapi import Request

from cited.access.keys import KeyStore
from cited.settings import Settings
from ingest.changes import CorpusChanges
from service.asking import Asking
from service.components import Components
from service.provider_tokens import ProviderTokens
from service.rate_limit import RateLimit


def get_components(request: Request) -> Components:
    return request.app.state.components


def get_settings(request: Request) -> Settings:
    return get_components(request).settings


def get_asking(request: Request) -> Asking:
    return get_components(request).asking


def get_changes(request: Request) -> CorpusChanges:
    return get_components(request).changes


def get_keys(request: Request) -> KeyStore:
    return get_components(request).keys


def get_provider_tokens(request: Request) -> ProviderTokens | None:
    return get_components(request).provider_tokens


def get_rate_limit(request: Request) -> RateLimit:
    return get_components(request).asking.rate_limit
