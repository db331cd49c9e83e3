"""A real uvicorn server on a loopback port, in a thread, for tests; waits on conditions."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import uvicorn
import websockets
from fastapi import FastAPI


@contextlib.contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_ready(base: str, timeout: float) -> None:
    """Wait until the server at ``base`` answers ``/readyz`` with 200 (at most ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.3)


async def eventually(condition: Callable[[], bool], timeout: float = 10, what: str = "") -> None:
    """Wait until ``condition()`` holds, at most ``timeout`` seconds (then fail)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        await asyncio.sleep(0.005)


def _text(frame: str | bytes) -> str:
    """A message as the protocol sends it: a text frame (browsers' graphql-ws clients
    cannot read binary ones)."""
    assert isinstance(frame, str), f"a binary frame, not text: {frame[:80]!r}"
    return frame


class Subscriber:
    """A bare graphql-transport-ws client over the ``websockets`` package: one
    subscription per socket."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    @classmethod
    async def open(
        cls, url: str, query: str, variables: dict[str, Any], token: str | None = None
    ) -> Subscriber:
        ws_url = url.replace("http://", "ws://") + "/graphql"
        headers = {"authorization": f"Bearer {token}"} if token else {}
        connection = await websockets.connect(
            ws_url, subprotocols=["graphql-transport-ws"], additional_headers=headers
        )
        assert connection.subprotocol == "graphql-transport-ws"
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(_text(await asyncio.wait_for(connection.recv(), timeout=10)))
        assert ack["type"] == "connection_ack", ack
        subscribe = {"query": query, "variables": variables}
        await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        return cls(connection)

    async def next(self, timeout: float) -> dict[str, Any]:
        """The next message, at most ``timeout`` seconds away."""
        message: dict[str, Any] = json.loads(
            _text(await asyncio.wait_for(self.connection.recv(), timeout=timeout))
        )
        return message

    async def data(self, timeout: float) -> Any:
        """The video of the next push, which must carry no error."""
        message = await self.next(timeout)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]["videoUpdated"]

    async def close(self) -> None:
        await self.connection.close()
