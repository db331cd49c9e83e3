"""GraphQL over HTTP and WebSocket: Strawberry's ASGI view with the spec's media types.

The view is an ASGI app of its own, routed at ``/graphql`` without FastAPI's
dependency solving: a GraphQL request pays for the context it needs (the
store, the settings, a lazily authenticated caller) and nothing more.

Clients that accept ``application/graphql-response+json`` get it, with a 4xx
status and no ``data`` entry when the request could not even be executed
(it failed to parse or validate); others get ``application/json`` with 200,
as the GraphQL-over-HTTP specification asks for legacy clients. GET runs
queries only: a mutation over GET is refused with 405.

Browsers asking for ``/graphql`` get GraphiQL from the service's own build
(``web/dist/graphiql.html``, React and GraphiQL bundled), never from a CDN;
Strawberry's CDN page is the fallback only while the web build is missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from api.core.config import ApiSettings
from api.graphql.context import LineageContext, make_context
from api.graphql.errors import with_code

__all__ = ["GRAPHQL_RESPONSE_JSON", "LineageGraphQL", "ServeFirst", "negotiate"]

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


def negotiate(accept: str | None) -> str:
    """The response media type for an ``Accept`` header (q-values honoured)."""
    if not accept:
        return JSON
    best, best_quality = JSON, -1.0
    for position, part in enumerate(accept.split(",")):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media == GRAPHQL_RESPONSE_JSON:
            candidate = GRAPHQL_RESPONSE_JSON
        elif media in (JSON, "application/*", "*/*"):
            candidate = JSON
        else:
            continue
        # Earlier entries win ties, as clients list their preference first.
        if quality > best_quality or (quality == best_quality and position == 0):
            best, best_quality = candidate, quality
    return best


class LineageGraphQL(GraphQL[LineageContext, None]):
    """The ``/graphql`` endpoint: queries and mutations over HTTP, subscriptions
    over WebSocket, GraphiQL for browsers.

    Parameters
    ----------
    schema : LineageSchema
    settings : ApiSettings
        Passed to every request's :class:`LineageContext`.
    graphiql_page : Path, optional
        The service's own GraphiQL build.
    **kwargs
        Strawberry's view options (``graphql_ide``, ``allow_queries_via_get``...).
    """

    def __init__(
        self,
        schema: Any,
        settings: ApiSettings,
        *,
        graphiql_page: Path | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(schema, **kwargs)
        self._settings = settings
        self._graphiql_page = graphiql_page

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> LineageContext:
        context = await make_context(request, response, self._settings)
        if not self._settings.public_reads:
            # Every operation needs the caller: looked up here, so that the
            # read permission (api/graphql/permissions.py) waits for nothing.
            await context.access.principal()
        return context

    @property
    def graphql_ide_html(self) -> str:
        page = self._graphiql_page
        if page is not None and page.is_file():
            return page.read_text(encoding="utf-8")
        return super().graphql_ide_html

    def encode_answer(self, data: object) -> bytes:
        """An HTTP answer's JSON (orjson: UTF-8, no spaces); the standard library's for
        what orjson refuses (an integer beyond 64 bits)."""
        try:
            return orjson.dumps(data)
        except TypeError:
            return json.dumps(data, separators=(",", ":")).encode()

    def encode_json(self, data: object) -> str:
        """A WebSocket message's JSON, as text: Strawberry sends bytes as binary frames,
        and graphql-transport-ws clients (the explorer's) read only text frames."""
        return self.encode_answer(data).decode()

    def parse_json(self, data: str | bytes) -> Any:
        """Parse a JSON body or parameter; a 400 that names the problem when it is not JSON."""
        try:
            return orjson.loads(data)
        except ValueError:
            # What orjson refuses (bad JSON, lone surrogates, integers beyond 64
            # bits, NaN) the standard library parses or names, as it always did.
            pass
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise HTTPException(
                    400, f"request body is not valid UTF-8 (byte {error.start})"
                ) from None
        try:
            return json.loads(data)
        except json.JSONDecodeError as error:
            raise HTTPException(
                400,
                f"request body is not valid JSON: {error.msg} "
                f"(line {error.lineno}, column {error.colno})",
            ) from None
        except RecursionError:
            raise HTTPException(400, "request body nests JSON too deeply") from None
        except ValueError as error:  # e.g. an integer of thousands of digits
            raise HTTPException(400, f"request body is not acceptable JSON: {error}") from None

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as error:
            # The spec asks for 405 when GET carries a mutation (Strawberry says 400).
            if isinstance(error.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, error.reason) from error
            raise

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            # Errors raised before the operation's extensions ran (a syntax
            # error) get their code here.
            result.errors = [
                error if "code" in (error.extensions or {}) else with_code(error)
                for error in result.errors
            ]
        response_data = process_result(result)
        media_type = negotiate(request.headers.get("accept"))
        sub_response: Response | None = getattr(request.state, "graphql_response", None)
        if sub_response is not None:
            sub_response.headers["content-type"] = media_type
            not_executed = (
                result.data is None
                and bool(result.errors)
                and all(error.path is None for error in result.errors or ())
            )
            if media_type == GRAPHQL_RESPONSE_JSON and not_executed:
                response_data.pop("data", None)
                sub_response.status_code = 400
        return response_data

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        media_type = sub_response.headers.get("content-type", JSON)
        if "content-type" in sub_response.headers:
            del sub_response.headers["content-type"]
        response = Response(
            self.encode_answer(response_data),
            media_type=media_type,
            status_code=sub_response.status_code or 200,
        )
        response.headers.raw.extend(sub_response.headers.raw)
        return response


class ServeFirst:
    """ASGI middleware, innermost: requests for ``path`` go straight to ``endpoint``.

    The application's own middleware (the response cache, the limits, CORS)
    runs around it as before; what it skips is only the exception middleware
    and the router, which would find the same endpoint as their first route.
    Any other path (one under a ``root_path`` too) takes the router.
    """

    def __init__(self, app: ASGIApp, endpoint: ASGIApp, path: str = "/graphql") -> None:
        self.app = app
        self.endpoint = endpoint
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan" and scope["path"] == self.path:
            await self.endpoint(scope, receive, send)
            return
        await self.app(scope, receive, send)
