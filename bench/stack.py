"""The stack as production runs it, on loopback: PostgreSQL for the case database (a schema of
its own), Redis for the gateway's state and for Rasa's tracker store and `RedisLockStore`
(`deploy/endpoints.prod.yml`, under a key prefix of its own), Rasa, the action server and the
gateway, each a process of its own with its log under `var/bench/`."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil
import redis.asyncio as aioredis
from sqlalchemy import text

from casedb.engine import create_engine

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "current.tar.gz"
ENDPOINTS = ROOT / "deploy" / "endpoints.prod.yml"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"  # as the Procfile starts Rasa
PYTHON = ROOT / ".venv" / "bin" / "python"
LEGALBOT = ROOT / ".venv" / "bin" / "legalbot"
STARTUP_LIMIT_S = 300

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL",
                              "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_HOST = os.environ.get("BENCH_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("BENCH_REDIS_PORT", "6379"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    peak_rss: int = 0  # bytes, sampled

    def sample(self) -> None:
        """Sample the resident memory of the process and its children."""
        try:
            proc = psutil.Process(self.popen.pid)
            rss = proc.memory_info().rss + sum(
                child.memory_info().rss for child in proc.children(recursive=True))
        except psutil.Error:
            return
        self.peak_rss = max(self.peak_rss, rss)

    def high_water_mark(self) -> int:
        """The kernel's peak resident set (VmHWM) of the process, or the sampled peak."""
        try:
            for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return max(self.peak_rss, int(line.split()[1]) * 1024)
        except OSError:
            pass
        return self.peak_rss


@dataclass
class Stack:
    """One or more Rasa replicas and gateways, one action server. `make bench` runs one of
    each; the scale-out test (tests/e2e/test_replicas.py) two Rasa replicas and two gateways."""

    workdir: Path
    profile_gateway: bool = False
    rasa_replicas: int = 1
    gateways: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    schema: str = field(default_factory=lambda: f"bench_{secrets.token_hex(4)}")
    prefix: str = field(default_factory=lambda: f"bench{secrets.token_hex(4)}")
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    # one secret for every gateway: a session opened on one is valid on the others
    web_session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    ports: dict[str, int] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)

    @staticmethod
    def _name(kind: str, index: int, count: int) -> str:
        return kind if count == 1 else f"{kind}-{index}"

    @property
    def rasa_names(self) -> list[str]:
        return [self._name("rasa", i, self.rasa_replicas) for i in range(self.rasa_replicas)]

    @property
    def gateway_names(self) -> list[str]:
        return [self._name("gateway", i, self.gateways) for i in range(self.gateways)]

    @property
    def gateway_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.ports[name]}" for name in self.gateway_names]

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.ports[name]}" for name in self.rasa_names]

    @property
    def gateway_url(self) -> str:
        return self.gateway_urls[0]

    @property
    def rasa_url(self) -> str:
        return self.rasa_urls[0]

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    @property
    def profile_path(self) -> Path:
        return self.workdir / "gateway.prof"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
        env.update(
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
            DATABASE_URL=POSTGRES_URL, DATABASE_SCHEMA=self.schema,
            REDIS_URL=f"redis://{REDIS_HOST}:{REDIS_PORT}/0", REDIS_PREFIX=self.prefix,
            RASA_REDIS_HOST=REDIS_HOST, RASA_REDIS_PORT=str(REDIS_PORT),
            RASA_REDIS_PREFIX=self.prefix,
            RASA_URL=",".join(self.rasa_urls), RASA_TOKEN=self.token,
            ACTION_SERVER_URL=f"http://127.0.0.1:{self.ports['actions']}",
            GATEWAY_HOST="127.0.0.1",
            WEB_SESSION_SECRET=self.web_session_secret,
            LOG_LEVEL="INFO", LOG_FORMAT="json",
            # Every simulated person comes from 127.0.0.1; in production they come from many
            # addresses. The per-person limit stays on (and is measured).
            RATE_LIMIT_IP="0",
            REMINDERS_ENABLED="false",
        )
        env.update(self.extra_env)
        return env

    async def prepare_database(self) -> None:
        engine = create_engine(POSTGRES_URL)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        finally:
            await engine.dispose()
        env = self.env()
        for args in (["db", "upgrade"], ["directory", "sample"]):
            process = await asyncio.create_subprocess_exec(
                str(LEGALBOT), *args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
            if await process.wait() != 0:
                raise RuntimeError(f"legalbot {' '.join(args)} failed")

    def spawn(self, name: str, argv: list[str], **env: str) -> None:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(argv, cwd=ROOT, env={**self.env(), **env}, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(Process(name, popen, log))

    async def start(self) -> None:
        if not MODEL.is_file():
            raise SystemExit(f"no trained model at {MODEL}: run `make train`")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ports = {name: free_port()
                      for name in (*self.rasa_names, "actions", *self.gateway_names)}
        await self.prepare_database()
        for name in self.rasa_names:
            # "--auth-token=…": a token may start with "-", which argparse takes for an option.
            self.spawn(name, [str(RASA_PYTHON), "-m", "gateway.rasa_runtime", "rasa", "run",
                              "--enable-api", f"--auth-token={self.token}",
                              "-i", "127.0.0.1", "-p", str(self.ports[name]),
                              "--model", str(MODEL), "--endpoints", str(ENDPOINTS),
                              "--credentials", str(ROOT / "bot" / "credentials.yml")])
        self.spawn("actions", [str(PYTHON), "-m", "actions.server",
                               "--port", str(self.ports["actions"])])
        for name in self.gateway_names:
            gateway = [str(PYTHON), "-m", "gateway.cli", "serve"]
            if self.profile_gateway:
                gateway = [str(PYTHON), "-m", "cProfile", "-o", str(self.profile_path),
                           "-m", "gateway.cli", "serve"]
            self.spawn(name, gateway, GATEWAY_PORT=str(self.ports[name]))
        await self.wait_ready()

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        last = ""
        async with aiohttp.ClientSession() as http:
            waiting = list(self.gateway_urls) + [f"{url}/" for url in self.rasa_urls]
            while time.monotonic() < deadline:
                for process in self.processes:
                    if process.popen.poll() is not None:
                        raise RuntimeError(f"{process.name} exited early:\n"
                                           f"{process.log.read_text()[-3000:]}")
                for url in list(waiting):
                    # A gateway is ready when /readyz says so (one Rasa replica suffices), so
                    # every Rasa replica is waited for as well.
                    check = f"{url}/readyz" if url in self.gateway_urls else url
                    try:
                        async with http.get(check,
                                            timeout=aiohttp.ClientTimeout(total=5)) as resp:
                            if resp.status == 200:
                                waiting.remove(url)
                            else:
                                last = await resp.text()
                    except (aiohttp.ClientError, TimeoutError) as exc:
                        last = f"{url}: {exc}"
                if not waiting:
                    return
                self.sample()
                await asyncio.sleep(1)
        raise RuntimeError(f"stack not ready after {STARTUP_LIMIT_S}s: {last}")

    def sample(self) -> None:
        for process in self.processes:
            process.sample()

    def peak_memory(self) -> dict[str, int]:
        self.sample()
        return {p.name: p.high_water_mark() for p in self.processes}

    def kill(self, name: str) -> None:
        """Kill one process at once, as a crash would (SIGKILL)."""
        process = self.process(name)
        os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait()

    async def stop(self) -> None:
        for process in reversed(self.processes):
            if process.popen.poll() is None:
                os.killpg(process.popen.pid, signal.SIGINT)
        for process in self.processes:
            try:
                process.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait()
        await self.cleanup()

    async def cleanup(self) -> None:
        """Drop the benchmark's schema and Redis keys."""
        engine = create_engine(POSTGRES_URL)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        finally:
            await engine.dispose()
        client = aioredis.Redis(host=REDIS_HOST, port=REDIS_PORT)
        try:
            keys = [key async for key in client.scan_iter(match=f"{self.prefix}*", count=500)]
            for start in range(0, len(keys), 500):
                await client.delete(*keys[start:start + 500])
        finally:
            await client.aclose()


def python_for_plot() -> str:
    """matplotlib lives in the Rasa environment (scripts/eval.py draws with it too)."""
    candidate = ROOT / ".venv-rasa" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable
