"""What tracing costs the webhook path: ingest throughput with tracing off, with a 10%
sampler and at 100%, each as a ratio to the bare baseline of the same run.

`.venv/bin/python -m benchmarks.tracing` (also run by `make bench`). It reuses the machinery
of benchmarks/webhook_ingest.py (fresh database, signed GitHub deliveries, wrk or the asyncio
client, interleaved rounds, medians) with four servers on loopback:

- the bare baseline (benchmarks/baseline_app.py);
- the real app (uvicorn) with no OTLP endpoint: nothing records (the default);
- the same with OTEL_EXPORTER_OTLP_ENDPOINT set and
  OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0.1;
- the same with OTEL_TRACES_SAMPLER=parentbased_always_on (every delivery traced).

The exporting servers send OTLP/HTTP to a local sink process that accepts and counts
batches (its CPU shows as "foreign"). Results go to benchmarks/results/tracing-<date>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks import webhook_ingest
from benchmarks.webhook_ingest import (
    RESULTS_DIR,
    ROOT,
    Server,
    bench_env,
    body_prefix,
    count_rows,
    create_database,
    drop_database,
    flush_redis,
    prepare,
    print_table,
    run_load,
    summarize,
)

LABELS = {
    "baseline": "baseline (uvicorn, asyncpg)",
    "off": "tracing off",
    "ratio10": "tracing, 10% sampled",
    "all": "tracing, 100% sampled",
}
SAMPLERS = {
    "ratio10": {
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
    },
    "all": {"OTEL_TRACES_SAMPLER": "parentbased_always_on"},
}


def _sink(port: int) -> None:
    """An OTLP/HTTP receiver that answers every export with success and counts them."""
    seen = {"requests": 0, "bytes": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length", "0"))
            self.rfile.read(size)
            with lock:
                seen["requests"] += 1
                seen["bytes"] += size
            self._answer(b"", "application/x-protobuf")

        def do_GET(self) -> None:
            self._answer(json.dumps(seen).encode(), "application/json")

        def _answer(self, body: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def _exports(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/count", timeout=5) as answer:
        return dict(json.loads(answer.read()))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=8.0, help="measured seconds per run")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument("--_sink", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args._sink:
        _sink(args._sink)
        return
    args.wrk = shutil.which("wrk") or ""
    if args.client == "auto":
        args.client = "wrk" if args.wrk else "python"

    names = list(LABELS)
    real = [n for n in names if n != "baseline"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    db_name, env = bench_env("sbtrace", base)
    redis_url = env["REDIS_URL"]
    secret = secrets.token_hex(20)
    work = Path(tempfile.mkdtemp(prefix=f"{db_name}-"))
    started = time.perf_counter()
    sink = Server("otlp-sink", [sys.executable, "-m", "benchmarks.tracing", "--_sink", "{port}"],
                  env, work)  # fmt: skip
    servers: dict[str, Server] = {}
    print(f"database {db_name}, redis {redis_url}, client {args.client}")
    asyncio.run(create_database(db_name))
    try:
        # A fresh integration per server and round; every request a new delivery (a unique
        # body signed by the load generator): a repeated body is a replay, which would
        # measure the duplicate path instead of ingest.
        rounds = range(1, args.rounds + 1)
        made = asyncio.run(prepare([f"{n}-r{r}" for n in real for r in rounds], secret))
        prefix = work / "body-prefix.bin"
        prefix.write_bytes(body_prefix())
        signing = (prefix, secret)
        sink.start()
        sink.wait_ready()
        py = sys.executable
        for name in names:
            server_env = dict(env)
            if name == "baseline":
                server_env, argv = webhook_ingest.baseline_server(env, secret, made)
            else:
                if name in SAMPLERS:
                    server_env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{sink.port}"
                    server_env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
                    server_env.update(SAMPLERS[name])
                argv = [py, "-m", "backend", "api", "--server", "uvicorn", "--port", "{port}"]
            servers[name] = Server(name, argv, server_env, work)
        for s in servers.values():
            s.start()
        for s in servers.values():
            s.wait_ready()

        runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
        for r in rounds:
            for name in names:
                integrations = made["integrations"]
                path = "/webhook" if name == "baseline" else integrations[f"{name}-r{r}"]["path"]
                res = run_load(servers[name], [path], signing, f"r{r}-{name}", args, work)
                runs[name].append(res)
                print(
                    f"round {r} {LABELS[name]:<28} {res['events_per_s']:>7.0f} events/s  "
                    f"p50 {res['p50_ms']:5.1f} ms  p99 {res['p99_ms']:6.1f} ms  "
                    f"non-2xx {res['non_2xx']}",
                    flush=True,
                )
        for s in servers.values():
            s.stop()  # SIGTERM: the exporting servers flush their last batches
        exports = _exports(sink.port)
        counts = asyncio.run(count_rows(made))
        # Rows stored per server beside the 2xx answers (a body the client repeats is a
        # duplicate: answered 200, not stored again).
        integrity = {
            n: {
                "stored": sum(
                    sum(counts[key].values()) for key in counts if key.split("-r")[0] == n
                ),
                "answered_2xx": sum(r["two_xx_total"] for r in runs[n]),
            }
            for n in names
        }
        summary = {LABELS[n]: summarize(runs[n]) for n in names}
        print_table(summary, LABELS["baseline"])
        base = summary[LABELS["baseline"]]["events_per_s"]
        ratios = {n: summary[LABELS[n]]["events_per_s"] / base for n in real}
        off = summary[LABELS["off"]]["events_per_s"]
        for n in real:
            cost = 1 - summary[LABELS[n]]["events_per_s"] / off
            print(f"{LABELS[n]:<24} {ratios[n]:.0%} of baseline; {cost:+.1%} cost vs tracing off")
        print(f"OTLP exports received: {exports}; rows stored: {integrity}")
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        out = RESULTS_DIR / f"tracing-{dt.date.today().isoformat()}.json"
        out.write_text(
            json.dumps(
                {
                    "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                    "settings": vars(args) | {"samplers": SAMPLERS},
                    "summary": summary,
                    "ratio_to_baseline": ratios,
                    "exports": exports,
                    "integrity": integrity,
                    "runs": runs,
                    "elapsed_s": time.perf_counter() - started,
                },
                indent=2,
                default=str,
            )
            + "\n"
        )
        print(f"results: {out.relative_to(ROOT)}  ({time.perf_counter() - started:.0f} s)")
        complete = all(i["stored"] >= i["answered_2xx"] for i in integrity.values())
        if not complete or not exports["requests"]:
            sys.exit(1)
    finally:
        for s in servers.values():
            s.stop()
        sink.stop()
        asyncio.run(drop_database(db_name))
        asyncio.run(flush_redis(redis_url))
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(env["SWITCHBOARD_VAR_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
