"""Request ids and structured logs.

Every HTTP request gets an id (the client's ``x-request-id`` when it is a
short safe string, else a new one), returned in the ``x-request-id``
response header and attached to every log line written while the request
runs. With ``LINEAGE_LOG_FORMAT=json`` each line is one JSON object.

One access line per request names the method, the path (never the query
string: GraphQL variables travel there), the status, the duration and the
request id. Tokens, prompts and variable values are never logged.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["JsonFormatter", "LogSettings", "RequestIdMiddleware", "configure_logging", "request_id"]

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "lineage_request_id", default=None
)
access_logger = logging.getLogger("lineage.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


class LogSettings(BaseSettings):
    """``LINEAGE_LOG_FORMAT`` (``text`` or ``json``) and ``LINEAGE_ACCESS_LOG``."""

    model_config = SettingsConfigDict(env_prefix="LINEAGE_", extra="ignore")

    log_format: str = "text"
    access_log: bool = True


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


_configured = False


def configure_logging(settings: LogSettings | None = None) -> None:
    """Attach the request-id filter (and the JSON formatter) to the root and uvicorn loggers."""
    global _configured
    if _configured:
        return
    _configured = True
    settings = settings or LogSettings()
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    if settings.log_format.lower() == "json":
        handler.setFormatter(JsonFormatter())
        import time as _time

        logging.Formatter.converter = _time.gmtime
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    if root.handlers:  # someone (a test runner, an embedding app) logs already: keep theirs
        for existing in root.handlers:
            existing.addFilter(_RequestIdFilter())
    else:
        root.addHandler(handler)
    if root.level == logging.WARNING:
        root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True


class RequestIdMiddleware:
    """Give each HTTP request an id, echo it in ``x-request-id``, log one access line."""

    def __init__(self, app: ASGIApp, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        current = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(current)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        (b"x-request-id", current.encode("latin-1")),
                    ],
                }
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                access_logger.info(
                    "%s %s %d",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            request_id.reset(token)
