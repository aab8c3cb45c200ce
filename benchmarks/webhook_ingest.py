"""Webhook ingestion benchmark: the real endpoint against a bare baseline, same run, then
the pipeline behind it: how fast workers drain what the api accepts.

`make bench` runs `.venv/bin/python -m benchmarks.webhook_ingest` (never the test suite).

What it does, in about six minutes on the 2-core dev box:
1. Creates a fresh PostgreSQL database (admin URL `BENCH_DATABASE_ADMIN_URL`, default
   postgresql://postgres@127.0.0.1:5432/test), runs the Piccolo migrations, syncs the
   connector catalog, creates a tenant, one connected `github` integration per real-app
   server and `--drain-integrations` per drain phase, all with a known signing secret
   (sealed like tests/conftest.py's make_integration), and `bench_webhook`, a copy of
   `integration_webhook` for the baseline. Uses an empty Redis db (`BENCH_REDIS_URL`,
   default the first empty of db 15, 14, … on 127.0.0.1:6379).
2. Starts, each as its own process on loopback with one worker: the real app with
   `python -m backend api --server uvicorn` and `--server granian`, and the baseline
   (benchmarks/baseline_app.py: read body, HMAC verify, one asyncpg INSERT … ON CONFLICT
   DO NOTHING, 200) under uvicorn with uvloop and httptools.
3. Drives each with ~2 KB GitHub `issues.opened` deliveries at 64 connections, every one a
   new delivery: a unique body (GitHub events also dedupe on the body's digest, so repeated
   bodies would be duplicates) with its own `X-GitHub-Delivery` and a valid
   `X-Hub-Signature-256`. wrk when installed (its Lua script signs each body from HMAC
   midstates of the common prefix), else an asyncio client. Warm-up, then a fixed measured
   window; rounds interleave the servers; medians reported, p99 as a ratio to the
   baseline's.
4. Checks that rows stored == deliveries answered 2xx; `--worker-procs` `switchboard
   worker` processes drain that standing backlog (timed).
5. Drain phases, one per `--drain-workers` count: the workers run while the uvicorn app
   takes load for `--drain-seconds` over the phase's integrations; then the time until no
   `received` event is left, the drain rate of the backlog, the end-to-end rate, worker
   and api CPU per event, and the integrity check (every stored event processed exactly
   once: status processed, one attempt, its envelope stored).
6. Prints a table, writes benchmarks/results/webhook_ingest-<date>.json, stops every
   process it started, drops the database and flushes the Redis db.

Options: --rounds, --duration, --warmup, --connections, --client {auto,wrk,python},
--servers (default baseline,uvicorn,granian), --worker-procs, --drain-workers (default
1,2), --drain-seconds (default 60), --drain-integrations, --drain-timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
ADMIN_URL = os.environ.get("BENCH_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_BASE = os.environ.get("BENCH_REDIS_BASE", "redis://127.0.0.1:6379")
TARGET_RATIO = 0.60
TARGET_P99_RATIO = 1.3  # the real app's p99 over the baseline's, same run
TARGET_WORKER_CPU = 0.25  # normalization CPU per event over ingest's
BODY_BYTES = 2048
CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


# -- payloads ------------------------------------------------------------------------------


def github_body(n: int) -> bytes:
    """A GitHub `issues.opened` delivery of about BODY_BYTES, unique per n."""
    now = "2026-11-25T12:00:00Z"
    owner = {
        "login": "Codertocat",
        "id": 21031067,
        "node_id": "MDQ6VXNlcjIxMDMxMDY3",
        "avatar_url": "https://avatars1.githubusercontent.com/u/21031067?v=4",
        "html_url": "https://github.com/Codertocat",
        "type": "User",
        "site_admin": False,
    }
    doc: dict[str, Any] = {
        "action": "opened",
        "issue": {
            "url": f"https://api.github.com/repos/Codertocat/Hello-World/issues/{n}",
            "html_url": f"https://github.com/Codertocat/Hello-World/issues/{n}",
            "id": 444500041 + n,
            "node_id": "MDU6SXNzdWU0NDQ1MDAwNDE=",
            "number": n,
            "title": f"Spelling error in the README file ({n})",
            "user": owner,
            "labels": [{"id": 1362934389, "name": "bug", "color": "d73a4a", "default": True}],
            "state": "open",
            "locked": False,
            "assignees": [],
            "comments": 0,
            "created_at": now,
            "updated_at": now,
            "author_association": "OWNER",
            "body": "",
        },
        "repository": {
            "id": 186853002,
            "node_id": "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=",
            "name": "Hello-World",
            "full_name": "Codertocat/Hello-World",
            "private": False,
            "owner": owner,
            "html_url": "https://github.com/Codertocat/Hello-World",
            "default_branch": "master",
        },
        "sender": owner,
    }
    size = len(json.dumps(doc, separators=(",", ":")))
    filler = "It looks like you accidently spelled 'commit' with two 't's. "
    text = (filler * (BODY_BYTES // len(filler) + 1))[: max(0, BODY_BYTES - size)]
    doc["issue"]["body"] = text
    return json.dumps(doc, separators=(",", ":")).encode()


def bench_env(prefix: str, base: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A fresh database name and the environment every server of a run shares; also put
    into os.environ, before anything from backend is imported (Piccolo reads it)."""
    db_name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    env = dict(base)
    env.update(
        {
            "DATABASE_URL": f"{ADMIN_URL.rsplit('/', 1)[0]}/{db_name}",
            "REDIS_URL": asyncio.run(pick_redis_db()),
            "SWITCHBOARD_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            # The per-integration limit (6000/min by default) would answer 429 in 1 s.
            "SWITCHBOARD_WEBHOOK_RATE_LIMIT": str(10**9),
            "PUBLIC_BASE_URL": "http://127.0.0.1",
            "SWITCHBOARD_VAR_DIR": tempfile.mkdtemp(prefix=f"{db_name}-var-"),
            "PICCOLO_CONF": "backend.piccolo_conf",
        }
    )
    os.environ.update(env)
    return db_name, env


SEQ_KEY = "bench_seq"


def body_prefix() -> bytes:
    """A GitHub `issues.opened` delivery of about BODY_BYTES up to the opening quote of its
    last field, `bench_seq`, padded to a multiple of 64 bytes (SHA-256's block): every
    request completes it with a unique value and `"}`, so every body is a new delivery
    (GitHub events dedupe on the body's digest too) and its HMAC costs the load generator
    only the last blocks from a precomputed midstate."""

    def head(doc: dict[str, Any]) -> bytes:
        text = json.dumps(doc, separators=(",", ":"))
        return text[: text.rindex(f'"{SEQ_KEY}":"') + len(SEQ_KEY) + 4].encode()

    doc = json.loads(github_body(1))
    doc[SEQ_KEY] = ""
    doc["issue"]["body"] += "x" * ((-len(head(doc))) % 64)
    prefix = head(doc)
    assert len(prefix) % 64 == 0 and prefix.endswith(b'"bench_seq":"')
    return prefix


def body_suffix(tag: str, n: int) -> bytes:
    return f'{tag}-{n:010d}"}}'.encode()


WRK_SCRIPT = r"""
-- args: <body prefix file> <secret> <comma-separated paths> <delivery-id tag>
-- Each request: the prefix + a unique suffix, signed with HMAC-SHA256 computed here from
-- the inner and outer midstates (the prefix is hashed once, at init).
local bit = require("bit")
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local rshift, lshift, ror, tobit, tohex = bit.rshift, bit.lshift, bit.ror, bit.tobit, bit.tohex
local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
local H0 = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
            0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}
local W = {}

local function compress(H, s, off)
  for i = 0, 15 do
    local a, b, c, d = s:byte(off + i * 4, off + i * 4 + 3)
    W[i] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
  end
  for i = 16, 63 do
    local w15, w2 = W[i - 15], W[i - 2]
    local s0 = bxor(ror(w15, 7), ror(w15, 18), rshift(w15, 3))
    local s1 = bxor(ror(w2, 17), ror(w2, 19), rshift(w2, 10))
    W[i] = tobit(W[i - 16] + s0 + W[i - 7] + s1)
  end
  local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
  for i = 0, 63 do
    local t1 = tobit(h + bxor(ror(e, 6), ror(e, 11), ror(e, 25))
                   + bxor(band(e, f), band(bnot(e), g)) + K[i + 1] + W[i])
    local t2 = tobit(bxor(ror(a, 2), ror(a, 13), ror(a, 22))
                   + bxor(band(a, b), band(a, c), band(b, c)))
    h, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + t2)
  end
  H[1], H[2], H[3], H[4] = tobit(H[1] + a), tobit(H[2] + b), tobit(H[3] + c), tobit(H[4] + d)
  H[5], H[6], H[7], H[8] = tobit(H[5] + e), tobit(H[6] + f), tobit(H[7] + g), tobit(H[8] + h)
end

-- Hash `tail` from midstate `mid`, `before` bytes having been hashed already.
local function finish(mid, before, tail)
  local H = {mid[1], mid[2], mid[3], mid[4], mid[5], mid[6], mid[7], mid[8]}
  local bits = (before + #tail) * 8
  local pad = (55 - #tail) % 64
  local len = ""
  for i = 7, 0, -1 do len = len .. string.char(math.floor(bits / 2 ^ (8 * i)) % 256) end
  local msg = tail .. "\128" .. string.rep("\0", pad) .. len
  for off = 1, #msg, 64 do compress(H, msg, off) end
  return H
end

local function bytes(H)
  local out = {}
  for i = 1, 8 do
    local x = H[i]
    out[i] = string.char(band(rshift(x, 24), 255), band(rshift(x, 16), 255),
                         band(rshift(x, 8), 255), band(x, 255))
  end
  return table.concat(out)
end

local inner, outer, prefix, plen
local paths, tag = {}, "x"
counter = 0
local threads, made = {}, 0

function setup(thread)
  made = made + 1
  thread:set("tid", made)
  table.insert(threads, thread)
end

function init(args)
  local f = io.open(args[1], "rb")
  prefix = f:read("*a")
  f:close()
  plen = #prefix
  local key = args[2] .. string.rep("\0", 64 - #args[2])
  local ipad, opad = {}, {}
  for i = 1, 64 do
    ipad[i] = string.char(bxor(key:byte(i), 0x36))
    opad[i] = string.char(bxor(key:byte(i), 0x5c))
  end
  inner = {unpack(H0)}
  compress(inner, table.concat(ipad), 1)
  for off = 1, plen, 64 do compress(inner, prefix, off) end
  outer = {unpack(H0)}
  compress(outer, table.concat(opad), 1)
  for p in args[3]:gmatch("[^,]+") do table.insert(paths, p) end
  tag = args[4]
end

function request()
  counter = counter + 1
  local suffix = string.format('%s-%d-%010d"}', tag, tid, counter)
  local digest = finish(outer, 64, bytes(finish(inner, 64 + plen, suffix)))
  local hex = {}
  for i = 1, 8 do hex[i] = tohex(digest[i], 8) end
  return wrk.format("POST", paths[counter % #paths + 1], {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "GitHub-Hookshot/bench",
    ["X-GitHub-Event"] = "issues",
    ["X-GitHub-Hook-ID"] = "123456",
    ["X-GitHub-Delivery"] = tag .. "-" .. tid .. "-" .. counter,
    ["X-Hub-Signature-256"] = "sha256=" .. table.concat(hex),
  }, prefix .. suffix)
end

function done(summary, latency, requests)
  local sent = 0
  for _, t in ipairs(threads) do sent = sent + t:get("counter") end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"completed":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"sent":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, sent,
    latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
end
"""


# -- the asyncio load generator (used when wrk is not installed) -----------------------------


async def _python_client(spec: dict[str, Any]) -> dict[str, Any]:
    """64 keep-alive connections, one request in flight each, for warm-up + duration;
    then stop sending and wait for every in-flight answer (so 2xx counts are exact)."""
    loop = asyncio.get_running_loop()
    prefix = spec["prefix_bytes"]
    inner = hmac.new(spec["secret"].encode(), prefix, hashlib.sha256)  # the prefix, once
    host, port, tag = spec["host"], spec["port"], spec["tag"]
    paths = spec["paths"]
    start = time.perf_counter()
    measure_from = start + spec["warmup"]
    measure_to = measure_from + spec["duration"]
    latencies: list[float] = []
    measured: Counter[int] = Counter()
    total: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    seq = iter(range(1, 1 << 62))
    sent = [0]
    finished: list[asyncio.Future[None]] = []

    class Conn(asyncio.Protocol):
        def __init__(self, done: asyncio.Future[None]) -> None:
            self.done = done
            self.buf = bytearray()
            self.t0 = 0.0
            self.waiting = False
            self.transport: asyncio.Transport | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport  # type: ignore[assignment]
            self.send()

        def send(self) -> None:
            n = next(seq)
            suffix = body_suffix(tag, n)
            mac = inner.copy()
            mac.update(suffix)
            sig, body = mac.hexdigest(), prefix + suffix
            head = (
                f"POST {paths[n % len(paths)]} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Content-Type: application/json\r\nUser-Agent: GitHub-Hookshot/bench\r\n"
                "X-GitHub-Event: issues\r\nX-GitHub-Hook-ID: 123456\r\n"
                f"X-GitHub-Delivery: {tag}-{n}\r\nX-Hub-Signature-256: sha256={sig}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            self.t0 = time.perf_counter()
            self.waiting = True
            sent[0] += 1
            assert self.transport is not None
            self.transport.write(head + body)

        def data_received(self, data: bytes) -> None:
            self.buf += data
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).lower()
            i = head.find(b"content-length:")
            if i >= 0:
                j = head.find(b"\r\n", i)
                length = int(head[i + 15 : j if j > 0 else len(head)])
                if len(self.buf) < end + 4 + length:
                    return
            elif b"chunked" in head and self.buf.find(b"0\r\n\r\n", end + 4) < 0:
                return
            now = time.perf_counter()
            status = int(head[9:12])
            self.buf.clear()
            self.waiting = False
            total[status] += 1
            if measure_from <= now <= measure_to:
                measured[status] += 1
                latencies.append(now - self.t0)
            if now < measure_to:
                self.send()
            else:
                assert self.transport is not None
                self.transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            if self.waiting:
                errors["connection_lost"] += 1
            if not self.done.done():
                self.done.set_result(None)

    async def run_one() -> None:
        while time.perf_counter() < measure_to:
            done: asyncio.Future[None] = loop.create_future()
            finished.append(done)
            try:
                await loop.create_connection(lambda d=done: Conn(d), host, port)
            except OSError:
                errors["connect"] += 1
                await asyncio.sleep(0.05)
                continue
            await done

    await asyncio.wait_for(
        asyncio.gather(*(run_one() for _ in range(spec["connections"]))),
        spec["warmup"] + spec["duration"] + 30,
    )
    latencies.sort()
    two_xx_total = sum(v for k, v in total.items() if 200 <= k < 300)
    two_xx = sum(v for k, v in measured.items() if 200 <= k < 300)
    completed_total = sum(total.values())
    return {
        "completed": sum(measured.values()),
        "two_xx": two_xx,
        "non_2xx": sum(measured.values()) - two_xx,
        "socket_errors": sum(errors.values()),
        "statuses": {str(k): v for k, v in sorted(measured.items())},
        "duration_s": spec["duration"],
        "p50_ms": _pct(latencies, 50) * 1000,
        "p99_ms": _pct(latencies, 99) * 1000,
        "max_ms": (latencies[-1] if latencies else 0.0) * 1000,
        "two_xx_total": two_xx_total,
        "in_flight_unanswered": sent[0] - completed_total,
        "sent_total": sent[0],
    }


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


# -- processes and /proc accounting ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_by_group(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each process group we started, and by PostgreSQL and
    Redis (every process of that name on the box)."""
    out = {name: 0.0 for name in [*groups, "postgres", "redis"]}
    by_pgid = {pgid: name for name, pgid in groups.items()}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / CLK_TCK
        name = by_pgid.get(int(fields[2]))
        if name is None:
            if comm.startswith("postgres"):
                name = "postgres"
            elif comm.startswith("redis-server"):
                name = "redis"
        if name is not None:
            out[name] += seconds
    return out


def machine_busy() -> tuple[float, float]:
    parts = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


class Server:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.env = env
        self.log = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: granian's workers included
            )

    @property
    def pgid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited: see {self.log}\n{self.log.read_text()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as s,
            ):
                s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
            time.sleep(0.2)
        raise SystemExit(f"{self.name} did not become ready: see {self.log}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


# -- one load run --------------------------------------------------------------------------


def run_load(
    server: Server,
    paths: list[str],
    signing: tuple[Path, str],
    tag: str,
    args: argparse.Namespace,
    work: Path,
    *,
    warmup: float | None = None,
    duration: float | None = None,
    others: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Warm-up then the measured window against one server, each request a new delivery to
    one of `paths` signed with `signing` (body prefix file, secret); returns the window's
    figures plus the whole run's 2xx count and requests left unanswered (for the integrity
    check). `others`: more process groups whose CPU the window counts (workers)."""
    warmup = args.warmup if warmup is None else warmup
    duration = args.duration if duration is None else duration
    groups = {"server": server.pgid, **(others or {})}
    prefix, secret = signing
    if args.client == "wrk":
        script = work / "signed.lua"
        if not script.exists():
            script.write_text(WRK_SCRIPT)
        url = f"http://127.0.0.1:{server.port}"

        def wrk(seconds: float, run_tag: str) -> dict[str, Any]:
            out = subprocess.run(
                [
                    args.wrk,
                    "-t2",
                    f"-c{args.connections}",
                    f"-d{round(seconds)}s",
                    "--timeout",
                    "10s",
                    "-s",
                    str(script),
                    url,
                    "--",
                    str(prefix),
                    secret,
                    ",".join(paths),
                    run_tag,
                ],
                capture_output=True,
                text=True,
                check=True,
                start_new_session=True,
            )
            line = next(x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON "))
            return dict(json.loads(line[len("BENCH_JSON ") :]))

        warm = wrk(warmup, tag + "w") if warmup > 0 else {"completed": 0, "status": 0, "sent": 0}
        cpu0, busy0 = cpu_by_group(groups), machine_busy()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        main = wrk(duration, tag + "m")
        wall = time.perf_counter() - t0
        cpu1, busy1 = cpu_by_group(groups), machine_busy()
        seconds = main["duration_us"] / 1e6
        socket_errors = main["connect"] + main["read"] + main["write"] + main["timeout"]
        result = {
            "completed": main["completed"],
            "two_xx": main["completed"] - main["status"],
            "non_2xx": main["status"],
            "socket_errors": socket_errors,
            "duration_s": seconds,
            "p50_ms": main["p50_us"] / 1000,
            "p99_ms": main["p99_us"] / 1000,
            "max_ms": main["max_us"] / 1000,
            "two_xx_total": warm["completed"] - warm["status"] + main["completed"] - main["status"],
            "in_flight_unanswered": warm["sent"]
            - warm["completed"]
            + main["sent"]
            - main["completed"],
            "sent_total": warm["sent"] + main["sent"],
        }
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        client_cpu = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime  # wrk, waited
    else:
        spec = {
            "host": "127.0.0.1",
            "port": server.port,
            "paths": paths,
            "tag": tag,
            "prefix": str(prefix),
            "secret": secret,
            "connections": args.connections,
            "warmup": warmup,
            "duration": duration,
        }
        spec_file = work / f"{tag}.json"
        spec_file.write_text(json.dumps(spec))
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.webhook_ingest", "--_client", str(spec_file)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        groups["client"] = proc.pid
        time.sleep(warmup)
        cpu0, busy0 = cpu_by_group(groups), machine_busy()
        t0 = time.perf_counter()
        time.sleep(duration)
        wall = time.perf_counter() - t0
        cpu1, busy1 = cpu_by_group(groups), machine_busy()
        out, _ = proc.communicate(timeout=60)
        result = json.loads(out)
        seconds = result["duration_s"]
        client_cpu = cpu1["client"] - cpu0["client"]
    result["events_per_s"] = result["two_xx"] / seconds
    busy_share = (busy1[0] - busy0[0]) / max(1.0, busy1[1] - busy0[1])
    result["machine_busy_pct"] = 100 * busy_share
    ours = sum(cpu1[k] - cpu0[k] for k in ("server", "postgres", "redis")) + client_cpu
    # CPU used by anything else on the box (other people's tests, …): a noisy-run flag.
    result["foreign_cpu_pct"] = max(0.0, 100 * (busy_share * NCPU * wall - ours) / (NCPU * wall))
    per_req = 1e6 / max(1, result["completed"])
    result["cpu_us_per_request"] = {
        "server": (cpu1["server"] - cpu0["server"]) * per_req,
        "postgres": (cpu1["postgres"] - cpu0["postgres"]) * per_req,
        "redis": (cpu1["redis"] - cpu0["redis"]) * per_req,
        "client": client_cpu * per_req,
    }
    result["cpu_s"] = {k: cpu1[k] - cpu0[k] for k in groups if k != "client"}
    result["cpu_sample_wall_s"] = wall
    return result


# -- setup and teardown --------------------------------------------------------------------


async def pick_redis_db() -> str:
    import redis.asyncio as redis

    if os.environ.get("BENCH_REDIS_URL"):
        return os.environ["BENCH_REDIS_URL"]
    for n in range(15, 0, -1):
        client = redis.Redis.from_url(f"{REDIS_BASE}/{n}")
        try:
            if await client.dbsize() == 0:
                return f"{REDIS_BASE}/{n}"
        finally:
            await client.aclose()
    raise SystemExit("no empty Redis db on the server; set BENCH_REDIS_URL")


async def create_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def flush_redis(url: str) -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def open_bench_tenant() -> uuid.UUID:
    """Migrate, open the pool (the caller closes it), sync the catalog and create the `bench`
    tenant: what every benchmark's setup starts with. The tenant's id."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from backend.catalog.services import sync_catalog
    from backend.lib import db
    from backend.settings import get_settings
    from backend.tenants.services import create_tenant
    from backend.tenants.vault import init_vault

    result = await run_forwards(app_name="switchboard")
    if not result.success:
        raise SystemExit(f"migrations failed: {result.message}")
    init_vault(get_settings().master_keys)
    await db.open_pool(2)
    try:
        await sync_catalog(get_settings())
        tenant_id, _key = await create_tenant("bench")
    except BaseException:
        await db.close_pool()
        raise
    return tenant_id


async def prepare(
    real_servers: list[str], secret: str, drain_sets: dict[str, int] | None = None
) -> dict[str, Any]:
    """Migrate, sync the catalog, create the tenant, the integrations and bench_webhook;
    `drain_sets`: name -> how many integrations each drain phase spreads its load over."""
    from backend.integrations import secrets as sealed
    from backend.integrations.tables import Integration
    from backend.lib import db, tokens

    tenant_id = await open_bench_tenant()
    try:
        made: dict[str, Any] = {"tenant": tenant_id, "integrations": {}}
        wanted = [(name, name) for name in real_servers] + [
            (f"{phase}/{n}", phase)
            for phase, count in (drain_sets or {}).items()
            for n in range(count)
        ]
        for name, label in wanted:
            integration_id = uuid.uuid4()
            token = tokens.random_token(32)
            now = dt.datetime.now(dt.UTC)
            await Integration.insert(
                Integration(
                    id=integration_id,
                    tenant=tenant_id,
                    connector="github",
                    name=f"github bench ({label})",
                    status="connected",
                    config={},
                    webhook_token_hash=tokens.hash_token(token),
                    webhook_token_sealed=await sealed.seal_token(tenant_id, integration_id, token),
                    webhook_secrets=await sealed.seal_signing_secrets(
                        tenant_id, integration_id, [sealed.SigningSecret(secret)]
                    ),
                    created_at=now,
                    updated_at=now,
                )
            )
            made["integrations"][name] = {
                "id": integration_id,
                "path": f"/api/webhooks/github/{token}",
                "set": label,
            }
        made["baseline_integration"] = uuid.uuid4()
        await db.pool().execute(
            "CREATE TABLE bench_webhook (LIKE integration_webhook INCLUDING ALL)"
        )
        # The baseline's dedupe key (the real table keeps its keys in integration_webhook_key
        # since it is partitioned, so LIKE does not bring it along).
        await db.pool().execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS bench_webhook_dedupe"
            " ON bench_webhook (integration, provider_event_id)"
        )
        return made
    finally:
        await db.close_pool()


async def count_rows(made: dict[str, Any]) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        out: dict[str, Any] = {}
        for item in made["integrations"].values():
            rows = await conn.fetch(
                "SELECT status, count(*) AS n FROM integration_webhook WHERE integration = $1 "
                "GROUP BY status",
                item["id"],
            )
            into = out.setdefault(item["set"], {})
            for r in rows:
                into[r["status"]] = into.get(r["status"], 0) + r["n"]
        out["baseline"] = {
            "received": await conn.fetchval("SELECT count(*) FROM bench_webhook") or 0
        }
        return out
    finally:
        await conn.close()


async def queue_length(url: str) -> int:
    import redis.asyncio as redis
    from arq.constants import default_queue_name

    client = redis.Redis.from_url(url)
    try:
        return int(await client.zcard(default_queue_name))
    finally:
        await client.aclose()


async def received_left() -> int:
    import asyncpg

    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM integration_webhook WHERE status = 'received'"
            )
        )
    finally:
        await conn.close()


async def processed_once(ids: list[uuid.UUID]) -> dict[str, int]:
    """Of the integrations' stored events: how many, and how many were processed exactly
    once (each normalization write counts an attempt) with their envelope stored."""
    import asyncpg

    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS stored, count(*) FILTER (WHERE status = 'processed'"
            " AND attempts = 1 AND normalized IS NOT NULL) AS once"
            " FROM integration_webhook WHERE integration = ANY($1::uuid[])",
            ids,
        )
        assert row is not None
        return {"stored": int(row["stored"]), "processed_once": int(row["once"])}
    finally:
        await conn.close()


def start_workers(env: dict[str, str], procs: int, work: Path) -> list[subprocess.Popen[bytes]]:
    """`switchboard worker` processes, each its own process group (for CPU accounting)."""
    started = []
    for n in range(procs):
        with (work / f"worker-{procs}-{n}.log").open("ab") as log:
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", "backend", "worker"],
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    time.sleep(3)  # started and polling
    for p in started:
        if p.poll() is not None:
            raise SystemExit(f"a worker exited: see {work}")
    return started


def stop_workers(started: list[subprocess.Popen[bytes]]) -> None:
    for p in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
    for p in started:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def wait_empty(timeout: float) -> tuple[float, int]:
    """Seconds until no `received` event remains (or the timeout), and how many remain."""
    t0 = time.perf_counter()
    left = asyncio.run(received_left())
    while left and time.perf_counter() - t0 < timeout:
        time.sleep(0.25)
        left = asyncio.run(received_left())
    return time.perf_counter() - t0, left


def drain_phase(
    server: Server,
    made: dict[str, Any],
    phase: str,
    procs: int,
    signing: tuple[Path, str],
    args: argparse.Namespace,
    env: dict[str, str],
    work: Path,
) -> dict[str, Any]:
    """`procs` workers running while the api takes load for `--drain-seconds` over the
    phase's integrations; then the time until no received event is left."""
    items = [i for i in made["integrations"].values() if i["set"] == phase]
    workers = start_workers(env, procs, work)
    try:
        groups = {f"worker{n}": w.pid for n, w in enumerate(workers)}
        cpu0 = cpu_by_group(groups)
        t0 = time.perf_counter()
        load = run_load(
            server,
            [i["path"] for i in items],
            signing,
            f"{phase}-{secrets.token_hex(3)}",
            args,
            work,
            warmup=0,
            duration=args.drain_seconds,
            others=groups,
        )
        loaded = time.perf_counter() - t0
        backlog = asyncio.run(received_left())
        to_empty, left = wait_empty(args.drain_timeout)
        total = time.perf_counter() - t0
        cpu1 = cpu_by_group(groups)
    finally:
        stop_workers(workers)
    once = asyncio.run(processed_once([i["id"] for i in items]))
    processed = once["processed_once"]
    worker_cpu = sum(cpu1[k] - cpu0[k] for k in groups)
    ingest_cpu_us = load["cpu_us_per_request"]["server"]
    return {
        "workers": procs,
        "integrations": len(items),
        "load_s": loaded,
        "accepted_2xx": load["two_xx_total"],
        "ingest_events_per_s": load["events_per_s"],
        "ingest_p99_ms": load["p99_ms"],
        "backlog_at_load_end": backlog,
        "time_to_empty_s": to_empty,
        "left_unprocessed": left,
        "drain_events_per_s": backlog / to_empty if backlog and to_empty else 0.0,
        "end_to_end_events_per_s": processed / total if total else 0.0,
        "ingest_cpu_us_per_event": ingest_cpu_us,
        "worker_cpu_us_per_event": 1e6 * worker_cpu / max(1, processed),
        "worker_to_ingest_cpu": (1e6 * worker_cpu / max(1, processed)) / ingest_cpu_us
        if ingest_cpu_us
        else 0.0,
        **once,
        "ok": left == 0
        and once["processed_once"] == once["stored"]
        and load["two_xx_total"]
        <= once["stored"]
        <= load["two_xx_total"] + load["in_flight_unanswered"],
    }


# -- report --------------------------------------------------------------------------------


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float:
        return float(statistics.median(r[key] for r in runs))

    cpu_keys = runs[0]["cpu_us_per_request"].keys()
    return {
        "events_per_s": med("events_per_s"),
        "p50_ms": med("p50_ms"),
        "p99_ms": med("p99_ms"),
        "errors": sum(r["non_2xx"] + r["socket_errors"] for r in runs),
        "machine_busy_pct": med("machine_busy_pct"),
        "foreign_cpu_pct": med("foreign_cpu_pct"),
        "cpu_us_per_request": {
            k: float(statistics.median(r["cpu_us_per_request"][k] for r in runs)) for k in cpu_keys
        },
        "rounds": [round(r["events_per_s"]) for r in runs],
    }


def print_table(summary: dict[str, Any], baseline: str) -> None:
    base = summary[baseline]["events_per_s"]
    print()
    header = (
        f"{'server':<28}{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'ratio':>8}{'app µs/req':>12}{'pg µs/req':>11}{'box busy':>10}{'foreign':>9}   rounds"
    )
    print(header)
    print("-" * len(header))
    for name, s in summary.items():
        ratio = s["events_per_s"] / base if base else 0.0
        print(
            f"{name:<28}{s['events_per_s']:>10.0f}{s['p50_ms']:>9.1f}{s['p99_ms']:>9.1f}"
            f"{s['errors']:>8}{ratio:>8.2f}{s['cpu_us_per_request']['server']:>12.0f}"
            f"{s['cpu_us_per_request']['postgres']:>11.0f}{s['machine_busy_pct']:>9.0f}%"
            f"{s['foreign_cpu_pct']:>8.0f}%   "
            f"{s['rounds']}"
        )
    print()


LABELS = {
    "baseline": "baseline (uvicorn, asyncpg)",
    "uvicorn": "real app (uvicorn)",
    "granian": "real app (granian)",
}


def baseline_server(
    env: dict[str, str], secret: str, made: dict[str, Any]
) -> tuple[dict[str, str], list[str]]:
    """The bare baseline app's environment and command line (`{port}` filled in by Server)."""
    server_env = {
        **env,
        "BENCH_BASELINE_DSN": env["DATABASE_URL"],
        "BENCH_BASELINE_SECRET": secret,
        "BENCH_BASELINE_TENANT": str(made["tenant"]),
        "BENCH_BASELINE_INTEGRATION": str(made["baseline_integration"]),
    }
    argv = [
        sys.executable, "-m", "uvicorn", "benchmarks.baseline_app:app", "--host", "127.0.0.1",
        "--port", "{port}", "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--lifespan", "on", "--log-level", "warning",
    ]  # fmt: skip
    return server_env, argv


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument("--servers", default="baseline,uvicorn,granian")
    p.add_argument("--worker-procs", type=int, default=2, help="workers draining the rounds")
    p.add_argument(
        "--drain-workers", default="1,2", help="worker processes of each drain phase ('': none)"
    )
    p.add_argument("--drain-seconds", type=float, default=60.0, help="load of a drain phase")
    p.add_argument("--drain-integrations", type=int, default=8)
    p.add_argument("--drain-timeout", type=float, default=600.0)
    p.add_argument("--_client", help=argparse.SUPPRESS)
    args = p.parse_args()

    if args._client:
        with contextlib.suppress(ImportError):
            import uvloop

            uvloop.install()
        spec = json.loads(Path(args._client).read_text())
        spec["prefix_bytes"] = Path(spec["prefix"]).read_bytes()
        print(json.dumps(asyncio.run(_python_client(spec))))
        return

    args.wrk = shutil.which("wrk") or ""
    if args.client == "auto":
        args.client = "wrk" if args.wrk else "python"
    if args.client == "wrk" and not args.wrk:
        raise SystemExit("wrk is not installed (apt-get install wrk), use --client python")
    names = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = set(names) - set(LABELS)
    if unknown or "baseline" not in names:
        raise SystemExit(f"--servers: the baseline and any of uvicorn, granian ({unknown})")
    real = [n for n in names if n != "baseline"]
    drains = [int(x) for x in args.drain_workers.split(",") if x.strip()]
    drain_sets = {f"drain{n}": args.drain_integrations for n in drains}

    db_name, env = bench_env("sbbench", dict(os.environ))
    redis_url = env["REDIS_URL"]
    secret = secrets.token_hex(20)
    work = Path(tempfile.mkdtemp(prefix=f"{db_name}-"))
    started = time.perf_counter()
    servers: dict[str, Server] = {}
    print(f"database {db_name}, redis {redis_url}, client {args.client}, work dir {work}")
    asyncio.run(create_database(db_name))
    try:
        made = asyncio.run(prepare(real, secret, drain_sets))
        prefix = work / "body-prefix.bin"
        prefix.write_bytes(body_prefix())
        signing = (prefix, secret)
        py = sys.executable
        for name in names:
            if name == "baseline":
                server_env, argv = baseline_server(env, secret, made)
            else:
                server_env = env
                argv = [py, "-m", "backend", "api", "--server", name, "--port", "{port}"]
            servers[name] = Server(name, argv, server_env, work)
        for s in servers.values():
            s.start()
        for s in servers.values():
            s.wait_ready()
        print("servers ready: " + ", ".join(f"{n} :{s.port}" for n, s in servers.items()))

        runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
        for r in range(1, args.rounds + 1):
            for name in names:
                path = "/webhook" if name == "baseline" else made["integrations"][name]["path"]
                tag = f"r{r}-{name}-{secrets.token_hex(3)}"
                res = run_load(servers[name], [path], signing, tag, args, work)
                runs[name].append(res)
                print(
                    f"round {r} {LABELS[name]:<28} {res['events_per_s']:>7.0f} events/s  "
                    f"p50 {res['p50_ms']:5.1f} ms  p99 {res['p99_ms']:6.1f} ms  "
                    f"non-2xx {res['non_2xx']}  socket errors {res['socket_errors']}  "
                    f"box busy {res['machine_busy_pct']:.0f}%  "
                    f"foreign CPU {res['foreign_cpu_pct']:.0f}%",
                    flush=True,
                )
        # Integrity: every 2xx answer is a stored row (and nothing else is).
        counts = asyncio.run(count_rows(made))
        integrity: dict[str, Any] = {}
        for name in names:
            stored = sum(counts[name].values())
            answered = sum(r["two_xx_total"] for r in runs[name])
            unanswered = sum(r["in_flight_unanswered"] for r in runs[name])
            integrity[name] = {
                "stored": stored,
                "answered_2xx": answered,
                "sent_unanswered": unanswered,
                # wrk stops with requests in flight: the server stores them but wrk never
                # reads the answer. The asyncio client waits for every answer (0 unanswered).
                "ok": answered <= stored <= answered + unanswered,
            }
        queued = asyncio.run(queue_length(redis_url))
        total_real = sum(integrity[n]["stored"] for n in real)
        print(f"stored vs answered 2xx: {json.dumps(integrity)}")
        print(f"queued jobs: {queued} for {total_real} stored real-app events")

        # The rounds' standing backlog, drained by --worker-procs workers (no load).
        workers = start_workers(env, args.worker_procs, work)
        try:
            seconds, left = wait_empty(args.drain_timeout)
        finally:
            stop_workers(workers)
        after = asyncio.run(count_rows(made))
        # Requests wrk left in flight may have been stored after the count above.
        total_real = sum(sum(after[n].values()) for n in real)
        processed = sum(after[n].get("processed", 0) for n in real)
        worker = {
            "processes": args.worker_procs,
            "events": total_real,
            "seconds": seconds + 3,  # the workers' start included
            "events_per_s": total_real / (seconds + 3),
            "all_processed": processed == total_real and left == 0,
            "statuses": {n: after[n] for n in real},
        }
        print(
            f"standing backlog: {total_real} events drained in {worker['seconds']:.1f} s "
            f"({worker['events_per_s']:.0f} events/s, {args.worker_procs} worker processes, "
            f"start included); processed {processed}/{total_real}"
        )

        # Sustained: load for --drain-seconds with workers running, then time to empty.
        drained = []
        api = servers.get("uvicorn") or servers[real[0]]
        for other in servers.values():
            if other is not api:
                other.stop()
        for n in drains:
            d = drain_phase(api, made, f"drain{n}", n, signing, args, env, work)
            drained.append(d)
            print(
                f"drain, {n} worker process{'es' if n > 1 else ''}: ingest "
                f"{d['ingest_events_per_s']:.0f} events/s for {d['load_s']:.0f} s "
                f"(p99 {d['ingest_p99_ms']:.0f} ms) over {d['integrations']} integrations; "
                f"backlog at load end {d['backlog_at_load_end']}, empty after "
                f"{d['time_to_empty_s']:.1f} s (drain {d['drain_events_per_s']:.0f} events/s); "
                f"end to end {d['end_to_end_events_per_s']:.0f} events/s; "
                f"CPU per event: worker {d['worker_cpu_us_per_event']:.0f} µs, api "
                f"{d['ingest_cpu_us_per_event']:.0f} µs (ratio {d['worker_to_ingest_cpu']:.2f}); "
                f"processed exactly once {d['processed_once']}/{d['stored']} "
                f"{'PASS' if d['ok'] else 'FAIL'}",
                flush=True,
            )
        for server in servers.values():
            server.stop()

        summary = {LABELS[n]: summarize(runs[n]) for n in names}
        print_table(summary, LABELS["baseline"])
        base = summary[LABELS["baseline"]]["events_per_s"]
        base_p99 = summary[LABELS["baseline"]]["p99_ms"]
        verdicts = {}
        for n in real:
            s = summary[LABELS[n]]
            ratio = s["events_per_s"] / base if base else 0.0
            p99_ratio = s["p99_ms"] / base_p99 if base_p99 else 0.0
            verdicts[n] = {
                "ratio": ratio,
                "meets_ratio": ratio >= TARGET_RATIO,
                "p99_ratio": p99_ratio,
                "meets_p99": p99_ratio <= TARGET_P99_RATIO,
            }
            print(
                f"{LABELS[n]}: {ratio:.0%} of baseline (target ≥ {TARGET_RATIO:.0%}) "
                f"{'PASS' if verdicts[n]['meets_ratio'] else 'MISS'}; p99 {s['p99_ms']:.1f} ms "
                f"= {p99_ratio:.2f}x the baseline's {base_p99:.1f} ms (target ≤ "
                f"{TARGET_P99_RATIO}x) {'PASS' if verdicts[n]['meets_p99'] else 'MISS'}"
            )
        for d in drained:
            keeps_up = d["drain_events_per_s"] >= d["ingest_events_per_s"] or (
                d["time_to_empty_s"] < 2.0
            )
            d["meets_drain"] = keeps_up
            d["meets_cpu"] = d["worker_to_ingest_cpu"] <= TARGET_WORKER_CPU
            print(
                f"drain with {d['workers']} worker(s): keeps up with ingest "
                f"{'PASS' if keeps_up else 'MISS'}; normalization CPU "
                f"{d['worker_to_ingest_cpu']:.2f}x ingest's (target ≤ {TARGET_WORKER_CPU}) "
                f"{'PASS' if d['meets_cpu'] else 'MISS'}"
            )
        ok = (
            all(i["ok"] for i in integrity.values())
            and worker["all_processed"]
            and all(d["ok"] for d in drained)
        )
        print(
            f"integrity: {'PASS' if ok else 'FAIL'} (stored == 2xx, every event processed "
            "exactly once)"
        )

        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        out = RESULTS_DIR / f"webhook_ingest-{dt.date.today().isoformat()}.json"
        out.write_text(
            json.dumps(
                {
                    "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                    "settings": {
                        "client": args.client,
                        "connections": args.connections,
                        "rounds": args.rounds,
                        "warmup_s": args.warmup,
                        "duration_s": args.duration,
                        "body_bytes": len(github_body(1)),
                        "targets": {
                            "ratio": TARGET_RATIO,
                            "p99_ratio": TARGET_P99_RATIO,
                            "worker_cpu": TARGET_WORKER_CPU,
                        },
                        "drain_seconds": args.drain_seconds,
                    },
                    "summary": summary,
                    "verdicts": verdicts,
                    "runs": runs,
                    "integrity": integrity,
                    "queued_jobs": queued,
                    "normalization": worker,
                    "drain": drained,
                    "elapsed_s": time.perf_counter() - started,
                },
                indent=2,
                default=str,
            )
            + "\n"
        )
        print(f"results: {out.relative_to(ROOT)}  ({time.perf_counter() - started:.0f} s)")
        if not ok:
            sys.exit(1)
    finally:
        for s in servers.values():
            s.stop()
        asyncio.run(drop_database(db_name))
        asyncio.run(flush_redis(redis_url))
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(env["SWITCHBOARD_VAR_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
