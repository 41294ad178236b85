"""FastAPI dependencies: the per-app service and settings, taken from the app that serves the request."""

from __future__ import annotations

from fastapi import Request

from cited.settings import Settings
from service.answers import AnswerService


def get_service(request: Request) -> AnswerService:
    return request.app.state.service


def get_settings(request: Request) -> Settings:
    return request.app.state.settings
