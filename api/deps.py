"""FastAPI dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.core.config import ApiSettings
from lineage.store import LineageStore

__all__ = ["SettingsDep", "StoreDep", "get_settings", "get_store"]


def get_store(request: Request) -> LineageStore:
    store: LineageStore = request.app.state.store
    return store


def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


StoreDep = Annotated[LineageStore, Depends(get_store)]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
