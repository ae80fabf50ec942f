"""The action server: rasa_sdk's Sanic app, plus `/metrics`, per-action timing and JSON logs
that carry the gateway's turn id (which Rasa passes on in the latest message's metadata).

    python -m actions.server [--port 5055] [--host 127.0.0.1] [--actions actions]

It runs in one process (no Sanic worker processes), so its metrics are one set of figures;
run more action-server processes behind a load balancer to use more cores.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import zlib
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Request, Sanic, response
from sanic.response import BaseHTTPResponse, HTTPResponse

from gateway import logs
from gateway.metrics import (
    ACTION_SECONDS,
    CONTENT_TYPE_PLAIN,
    count_error,
    exposition,
    observe_stage,
)

log = logging.getLogger("actions.server")


def _action_call(request: Request) -> dict[str, Any]:
    """The body Rasa posted to /webhook (possibly deflate-compressed), or {}."""
    try:
        if request.headers.get("Content-Encoding") == "deflate":
            data = json.loads(zlib.decompress(request.body))
        else:
            data = request.json
    except (ValueError, zlib.error):
        return {}
    return data if isinstance(data, dict) else {}


def describe_call(call: dict[str, Any]) -> tuple[str, str, str | None]:
    """(action name, input channel, turn id) of an action call."""
    tracker = call.get("tracker")
    tracker = tracker if isinstance(tracker, dict) else {}
    latest = tracker.get("latest_message")
    metadata = latest.get("metadata") if isinstance(latest, dict) else None
    turn_id = logs.valid_turn_id(metadata.get(logs.TURN_METADATA_KEY)) if isinstance(
        metadata, dict) else None
    action = call.get("next_action")
    channel = tracker.get("latest_input_channel")
    return (action if isinstance(action, str) else "unknown",
            channel if isinstance(channel, str) and channel else "unknown", turn_id)


def create_server_app(executor: ActionExecutor) -> Sanic[Any, Any]:
    """rasa_sdk's app with timing middleware and a `/metrics` route."""
    app: Sanic[Any, Any] = create_app(executor, cors_origins=None)

    async def start_action(request: Request) -> None:
        if request.path != "/webhook":
            return
        action, channel, turn_id = describe_call(_action_call(request))
        logs.set_turn_id(turn_id)  # the handler runs in this same context
        request.ctx.action = (action, channel, time.perf_counter())

    async def finish_action(request: Request, resp: BaseHTTPResponse) -> None:
        started = getattr(request.ctx, "action", None)
        if started is None:
            return
        action, channel, at = started
        seconds = time.perf_counter() - at
        ACTION_SECONDS.labels(action=action).observe(seconds)
        observe_stage(channel, "actions", seconds)
        if resp.status >= 500:
            count_error("action_failed")
        log.info("action %s channel=%s status=%d ms=%.1f", action, channel, resp.status,
                 seconds * 1000)

    app.register_middleware(start_action, "request")
    app.register_middleware(finish_action, "response")

    @app.get("/metrics")
    async def metrics(_: Request) -> HTTPResponse:
        return response.raw(exposition(), content_type=CONTENT_TYPE_PLAIN)

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="actions.server", description="the action server")
    parser.add_argument("--host", default=os.environ.get("SANIC_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get("ACTION_SERVER_PORT") or 5055))
    parser.add_argument("--actions", default="actions", help="package of the custom actions")
    args = parser.parse_args(argv)
    logs.configure(os.environ.get("LOG_LEVEL", "INFO").upper(),
                   os.environ.get("LOG_FORMAT", "json").lower(), service="actions")
    logging.getLogger("sanic.access").setLevel(logging.WARNING)

    executor = ActionExecutor()
    executor.register_package(args.actions)
    app = create_server_app(executor)
    log.info("action server on http://%s:%d", args.host, args.port)
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
