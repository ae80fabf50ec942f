"""Prometheus metrics of the gateway and the action server (`GET /metrics`).

Metrics live in prometheus-client's process-wide registry, as the library intends: each gateway
or action-server process exposes its own figures and Prometheus scrapes every instance.

- `legalbot_turn_stage_seconds{channel, stage}`: how long each stage of a turn took. The
  gateway's own cost is `accept` (dedup and storing the message, before a platform is
  acknowledged) plus `gateway` (routing and logging the replies, without the Rasa call);
  `rasa` is the round trip to Rasa (which includes the actions); `actions` is one action run,
  measured on the action server; `send` is the delivery of replies to a platform.
- `legalbot_errors_total{kind}`: errors by kind (`rasa_unavailable`, `rasa_no_answer`,
  `rasa_failover`, `send_failed`, `action_failed`, ...).
- `legalbot_handoff_queue_length`, `legalbot_handoff_oldest_wait_seconds` and
  `legalbot_handoff_wait_seconds`: the staff queue, set through `set_handoff_queue` and
  `observe_handoff_wait` by the handoff code.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, Literal

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

CONTENT_TYPE_PLAIN: Final = CONTENT_TYPE_PLAIN_0_0_4

Stage = Literal["accept", "gateway", "rasa", "actions", "send"]

# Turn latencies from a few milliseconds (gateway cost) to Rasa's timeout.
LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75,
                          1.0, 1.5, 2.5, 5.0, 10.0, 30.0)
# Time in the staff queue: seconds to an hour.
WAIT_BUCKETS: Final = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0)

TURN_STAGE_SECONDS: Final = Histogram(
    "legalbot_turn_stage_seconds", "Duration of one stage of a turn", ["channel", "stage"],
    buckets=LATENCY_BUCKETS)
# The action server's view: one custom action run (actions/server.py).
ACTION_SECONDS: Final = Histogram(
    "legalbot_action_seconds", "Duration of one custom action run", ["action"],
    buckets=LATENCY_BUCKETS)
ERRORS: Final = Counter("legalbot_errors", "Errors by kind", ["kind"])
HANDOFF_QUEUE_LENGTH: Final = Gauge(
    "legalbot_handoff_queue_length", "Conversations waiting for a member of staff")
HANDOFF_OLDEST_WAIT: Final = Gauge(
    "legalbot_handoff_oldest_wait_seconds", "How long the oldest queued conversation has waited")
HANDOFF_WAIT_SECONDS: Final = Histogram(
    "legalbot_handoff_wait_seconds", "Time from joining the staff queue to being claimed",
    buckets=WAIT_BUCKETS)


def observe_stage(channel: str, stage: Stage, seconds: float) -> None:
    TURN_STAGE_SECONDS.labels(channel=channel, stage=stage).observe(seconds)


@contextmanager
def timed(channel: str, stage: Stage) -> Iterator[None]:
    """Observe the duration of the block as `stage` of a turn on `channel` (also on errors)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        observe_stage(channel, stage, time.perf_counter() - started)


def count_error(kind: str) -> None:
    ERRORS.labels(kind=kind).inc()


def set_handoff_queue(length: int, oldest_wait_s: float = 0.0) -> None:
    """The staff queue now: how many conversations wait, and the longest wait so far."""
    HANDOFF_QUEUE_LENGTH.set(length)
    HANDOFF_OLDEST_WAIT.set(oldest_wait_s)


def observe_handoff_wait(seconds: float) -> None:
    """A queued conversation was claimed by staff after `seconds`."""
    HANDOFF_WAIT_SECONDS.observe(seconds)


def exposition(registry: CollectorRegistry = REGISTRY) -> bytes:
    """The registry in Prometheus' text format."""
    return generate_latest(registry)


async def metrics_handler(request: web.Request) -> web.Response:
    # The classic text format, which every Prometheus version reads; the content type carries
    # its charset, so it goes in the header rather than aiohttp's content_type argument.
    return web.Response(body=exposition(), headers={"Content-Type": CONTENT_TYPE_PLAIN})
