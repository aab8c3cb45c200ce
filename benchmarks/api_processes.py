"""The api with one process and with several: webhook ingest throughput, same run.

`make bench` runs `.venv/bin/python -m benchmarks.api_processes`. It uses
benchmarks/webhook_ingest.py's setup and load tools (fresh database, one GitHub integration
per server, ~2 KB deliveries each new and validly signed, wrk or the asyncio client at 64
connections) and starts `python -m backend api --workers N` for each N of `--workers`
(default 1,2), each on its own port; rounds alternate between them and medians are
reported. Every server shares the one PostgreSQL and Redis, as api replicas behind a load
balancer would.

Prints events/s, p50/p99 and the ratio to one process; writes
benchmarks/results/api_processes-<date>.json.
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
from pathlib import Path
from typing import Any

from benchmarks.webhook_ingest import (
    RESULTS_DIR,
    Server,
    bench_env,
    body_prefix,
    count_rows,
    create_database,
    drop_database,
    flush_redis,
    prepare,
    run_load,
    summarize,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", default="1,2", help="api process counts to compare")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    args = p.parse_args(argv)
    args.wrk = shutil.which("wrk") or ""
    if args.client == "auto":
        args.client = "wrk" if args.wrk else "python"
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    names = [f"api-{n}proc" for n in counts]
    db_name, env = bench_env("sbprocs", dict(os.environ))
    secret = secrets.token_hex(20)
    work = Path(tempfile.mkdtemp(prefix=f"{db_name}-"))
    servers: dict[str, Server] = {}
    print(f"database {db_name}, client {args.client}, work dir {work}")
    asyncio.run(create_database(db_name))
    try:
        made = asyncio.run(prepare(names, secret))
        prefix = work / "body-prefix.bin"
        prefix.write_bytes(body_prefix())
        signing = (prefix, secret)
        for name, n in zip(names, counts, strict=True):
            argv = [sys.executable, "-m", "backend", "api", "--server", "uvicorn"]
            argv += ["--port", "{port}", "--workers", str(n)]
            servers[name] = Server(name, argv, env, work)
            servers[name].start()
        for server in servers.values():
            server.wait_ready()
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        for r in range(1, args.rounds + 1):
            for name in names:
                tag = f"r{r}-{name}-{secrets.token_hex(3)}"
                path = made["integrations"][name]["path"]
                res = run_load(servers[name], [path], signing, tag, args, work)
                runs[name].append(res)
                print(
                    f"round {r} {name:<10} {res['events_per_s']:>7.0f} events/s  "
                    f"p50 {res['p50_ms']:5.1f} ms  p99 {res['p99_ms']:6.1f} ms  "
                    f"non-2xx {res['non_2xx']}  box busy {res['machine_busy_pct']:.0f}%  "
                    f"foreign CPU {res['foreign_cpu_pct']:.0f}%",
                    flush=True,
                )
        for server in servers.values():
            server.stop()
        stored = asyncio.run(count_rows(made))  # by integration set: the server's name
        summary = {name: summarize(runs[name]) for name in names}
        base = summary[names[0]]["events_per_s"]
        print(f"\n{'api':<12}{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}   rounds")
        for name, s in summary.items():
            print(
                f"{name:<12}{s['events_per_s']:>10.0f}{s['p50_ms']:>9.1f}{s['p99_ms']:>9.1f}"
                f"{s['events_per_s'] / base:>8.2f}   {s['rounds']}"
            )
        answered = {name: sum(r["two_xx_total"] for r in runs[name]) for name in names}
        print(f"stored rows: {json.dumps({n: stored[n] for n in names})}")
        print(f"answered 2xx: {json.dumps(answered)}")
        result = {
            "date": dt.datetime.now(dt.UTC).isoformat(),
            "args": {k: v for k, v in vars(args).items() if k != "wrk"},
            "summary": summary,
            "stored": {n: stored[n] for n in names},
            "answered_2xx": answered,
            "cpus": os.cpu_count(),
        }
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        out = RESULTS_DIR / f"api_processes-{dt.date.today().isoformat()}.json"
        out.write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(f"results: {out}")
    finally:
        for server in servers.values():
            server.stop()
        asyncio.run(drop_database(db_name))
        asyncio.run(flush_redis(env["REDIS_URL"]))


if __name__ == "__main__":
    main()
