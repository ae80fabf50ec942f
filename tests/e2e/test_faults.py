"""Faults injected into the running stack (issue 10): Rasa, the action server, Redis and
PostgreSQL are killed or stopped while people write, then started again.

Unlike `test_stack.py` (which runs `scripts/run.sh`, where honcho stops everything when one
process exits), each process runs on its own here, with the Procfile's command lines, so one
can be killed (`kill -9`) and restarted while the others keep running. The stack uses a
private Redis (`redis-server` on a free port) and a private, throwaway PostgreSQL cluster
(`initdb` into a temporary directory), never the shared ones.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_stack import MODEL, ROOT, call, free_port, port_open

pytestmark = pytest.mark.e2e

STARTUP_LIMIT_S = 300
PG_BIN = shutil.which("pg_ctl")
REDIS_BIN = shutil.which("redis-server")


def procfile() -> dict[str, str]:
    """The Procfile's command lines, by process name."""
    commands: dict[str, str] = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and not line.startswith("#"):
            commands[name.strip()] = command.strip()
    return commands


@dataclass
class Service:
    """One process of the stack, in a process group of its own, logging to `log`."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def kill9(self) -> None:
        """kill -9 the whole process group: no shutdown handler runs."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill9()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def as_postgres(argv: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class PrivatePostgres:
    data: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        subprocess.run(as_postgres(["pg_ctl", "-D", str(self.data), "-l", str(self.log),
                                    "-w", *args]), check=True, capture_output=True,
                       timeout=120)

    def start(self) -> None:
        self.ctl("-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1",
                 "start")

    def crash(self) -> None:
        self.ctl("-m", "immediate", "stop")


@dataclass
class Stack:
    ports: dict[str, int]
    token: str
    services: dict[str, Service]
    postgres: PrivatePostgres
    redis: Service
    logs: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports['GATEWAY_PORT']}"

    @property
    def rasa(self) -> str:
        return f"http://127.0.0.1:{self.ports['RASA_PORT']}"

    def session(self) -> dict[str, str]:
        status, body = call("POST", f"{self.gateway}/channels/web/sessions")
        assert status == 201, body
        return {"Authorization": f"Bearer {body['token']}", "session_id": body["session_id"]}

    def say(self, auth: dict[str, str], text: str) -> tuple[int, Any]:
        headers = {"Authorization": auth["Authorization"]}
        return call("POST", f"{self.gateway}/channels/web/messages", {"text": text}, headers)

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run a query on the private PostgreSQL with psql (no driver in the test process)."""
        args = as_postgres(["psql", "-h", "127.0.0.1", "-p", str(self.postgres.port), "-U",
                            "postgres", "-At", "-F", "\t", "-c", query])
        out = subprocess.run(args, check=True, capture_output=True, text=True, timeout=30)
        return [tuple(line.split("\t")) for line in out.stdout.splitlines() if line]


def wait_for(check: Any, what: str, limit: float = STARTUP_LIMIT_S,
              logs: Path | None = None) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.5)
    tail = "".join(p.read_text(errors="replace")[-2000:] for p in sorted(logs.glob("*.log"))
                   ) if logs else ""
    pytest.fail(f"{what} not ready in {limit:.0f}s\n{tail}")


def rasa_ready(stack: Stack) -> bool:
    status, _ = call("GET", f"{stack.rasa}/status?token={stack.token}")
    return status == 200


def readyz(stack: Stack) -> tuple[int, Any]:
    return call("GET", f"{stack.gateway}/readyz")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if not (PG_BIN and REDIS_BIN and shutil.which("initdb")):
        pytest.skip("needs initdb/pg_ctl and redis-server for a private PostgreSQL and Redis")
    assert MODEL.is_file(), f"no trained model at {MODEL}: run `make train` (make test does)"
    tmp = Path(tempfile.mkdtemp(prefix="legalbot-faults-"))
    os.chmod(tmp, 0o755)  # the postgres user writes its cluster below
    logs = tmp / "logs"
    logs.mkdir()
    pgdata = tmp / "pg"
    pgdata.mkdir()
    if os.geteuid() == 0:
        shutil.chown(pgdata, "postgres", "postgres")
    pg_log = tmp / "pg.out"
    pg_log.touch()
    if os.geteuid() == 0:
        shutil.chown(pg_log, "postgres", "postgres")
    subprocess.run(as_postgres(["initdb", "-D", str(pgdata), "-U", "postgres", "--auth=trust",
                                "-E", "UTF8", "--no-sync"]), check=True, capture_output=True,
                   timeout=120)
    postgres = PrivatePostgres(pgdata, free_port(), pg_log)
    postgres.start()

    ports = {name: free_port() for name in ("RASA_PORT", "ACTION_SERVER_PORT", "GATEWAY_PORT")}
    redis_port = free_port()
    token = "faults-" + os.urandom(8).hex()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_SCHEMA",)}
    env.update({k: str(v) for k, v in ports.items()})
    env.update(DATABASE_URL=postgres.url, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
               REDIS_PREFIX="faults", RASA_TOKEN=token,
               RASA_URL=f"http://127.0.0.1:{ports['RASA_PORT']}",
               ACTION_SERVER_URL=f"http://127.0.0.1:{ports['ACTION_SERVER_PORT']}",
               WEB_SESSION_SECRET="faults-secret-" + os.urandom(8).hex(),
               SQLALCHEMY_SILENCE_UBER_WARNING="1", RATE_LIMIT_SENDER="100",
               RATE_LIMIT_IP="1000", RASA_TIMEOUT="20")
    for step in (["db", "upgrade"], ["directory", "sample"]):
        subprocess.run([str(ROOT / ".venv" / "bin" / "legalbot"), *step], cwd=ROOT, env=env,
                       check=True, capture_output=True, timeout=120)

    redis = Service("redis", [REDIS_BIN, "--port", str(redis_port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"], env, logs / "redis.log")
    commands = procfile()
    services = {name: Service(name, ["bash", "-c", f"exec {commands[name]}"], env,
                              logs / f"{name}.log") for name in ("rasa", "actions", "gateway")}
    stack = Stack(ports, token, services, postgres, redis, logs)
    try:
        redis.start()
        for service in services.values():
            service.start()
        wait_for(lambda: port_open(ports["GATEWAY_PORT"]) and readyz(stack)[0] == 200,
                 "the stack", logs=logs)
        yield stack
    finally:
        for service in [*services.values(), redis]:
            service.stop()
        with contextlib.suppress(subprocess.CalledProcessError):
            postgres.ctl("-m", "fast", "stop")
        shutil.rmtree(tmp, ignore_errors=True)


def is_apology_offering_a_person(text: str) -> bool:
    return "抱歉" in text and "消息已记录" in text and "12348" in text and "工作人员" in text


def inbound_logged(stack: Stack, session_id: str, text: str) -> bool:
    rows = stack.sql("SELECT m.text FROM message_log m JOIN conversation c "
                     "ON c.id = m.conversation_id WHERE c.external_id = "
                     f"'{session_id}' AND m.direction = 'in'")
    return (text,) in rows


def test_rasa_killed_apology_message_kept_and_back_without_restarts(stack: Stack) -> None:
    auth = stack.session()
    assert stack.say(auth, "你好")[0] == 200
    gateway = stack.services["gateway"].process
    assert gateway is not None
    gateway_pid = gateway.pid

    stack.services["rasa"].kill9()
    status, body = stack.say(auth, "我想申请法律援助")
    assert status == 200
    [apology] = body["messages"]
    assert is_apology_offering_a_person(apology["text"])
    assert inbound_logged(stack, auth["session_id"], "我想申请法律援助")
    assert readyz(stack)[0] == 503

    stack.services["rasa"].start()
    wait_for(lambda: rasa_ready(stack), "Rasa after the restart", logs=stack.logs)
    status, body = stack.say(auth, "你好")
    assert status == 200
    assert not any(is_apology_offering_a_person(m.get("text") or "") for m in body["messages"])
    gateway = stack.services["gateway"].process
    assert body["messages"] and gateway is not None and gateway.pid == gateway_pid
    assert readyz(stack)[0] == 200


def test_action_server_killed_apology_and_no_half_written_records(stack: Stack) -> None:
    auth = stack.session()
    assert stack.say(auth, "你好")[0] == 200
    before = stack.sql("SELECT (SELECT count(*) FROM legal_aid_application), "
                       "(SELECT count(*) FROM booking)")

    stack.services["actions"].kill9()
    status, body = stack.say(auth, "公司拖欠我三个月工资")  # starts the pre-screen: actions
    assert status == 200
    assert any(is_apology_offering_a_person(m.get("text") or "") for m in body["messages"])
    assert inbound_logged(stack, auth["session_id"], "公司拖欠我三个月工资")
    assert stack.sql("SELECT (SELECT count(*) FROM legal_aid_application), "
                     "(SELECT count(*) FROM booking)") == before

    stack.services["actions"].start()
    wait_for(lambda: readyz(stack)[0] == 200, "the action server after the restart",
             logs=stack.logs)
    fresh = stack.session()
    status, body = stack.say(fresh, "你好")
    assert status == 200
    assert any((m.get("text") or "").startswith("您好") for m in body["messages"]), body


def test_redis_killed_the_gateway_keeps_answering_and_recovers(stack: Stack) -> None:
    auth = stack.session()
    stack.redis.kill9()
    status, body = stack.say(auth, "你好")
    assert status == 200 and body["messages"]
    assert not any(is_apology_offering_a_person(m.get("text") or "") for m in body["messages"])
    assert stack.say(auth, "谢谢")[0] == 200
    status, ready = readyz(stack)
    assert status == 503 and ready["checks"]["redis"] == "down"
    assert stack.session()["session_id"]  # new people can still start

    stack.redis.start()
    wait_for(lambda: readyz(stack)[0] == 200, "Redis after the restart", logs=stack.logs)
    status, body = stack.say(auth, "你好")
    assert status == 200 and body["messages"]


def test_postgres_down_retryable_answer_nothing_acknowledged_then_recovers(
        stack: Stack) -> None:
    auth = stack.session()
    assert stack.say(auth, "你好")[0] == 200

    stack.postgres.crash()
    status, body = stack.say(auth, "我想预约法律咨询")
    assert status == 503, body
    assert body["error"] == "unavailable" and "稍后" in body["message"]
    assert readyz(stack)[0] == 503

    stack.postgres.start()
    wait_for(lambda: readyz(stack)[0] == 200, "PostgreSQL after the restart", logs=stack.logs)
    # Nothing was stored while it was down, so nothing was acknowledged; the retry works.
    assert not inbound_logged(stack, auth["session_id"], "我想预约法律咨询")
    status, body = stack.say(auth, "我想预约法律咨询")
    assert status == 200 and body["messages"]
    assert inbound_logged(stack, auth["session_id"], "我想预约法律咨询")


def outside_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # no packet is sent for UDP connect
            address: str = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_rasa_api_needs_its_token_and_internal_services_listen_on_loopback_only(
        stack: Stack) -> None:
    for path in ("/status", "/status?token=wrong", "/conversations/web:x/tracker"):
        status, _ = call("GET", f"{stack.rasa}{path}")
        assert status in (401, 403), path
    assert rasa_ready(stack)
    address = outside_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    for name in ("RASA_PORT", "ACTION_SERVER_PORT"):
        with socket.socket() as s:
            s.settimeout(1)
            assert s.connect_ex((address, stack.ports[name])) != 0, name
