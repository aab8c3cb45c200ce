"""The `switchboard` command: up, api, worker, dashboard, migrate, tenants, keys.

Modules that touch the database are imported inside each command, after `up` has put the
embedded servers' URLs in the environment (Piccolo reads DATABASE_URL at import).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from backend.settings import describe, get_settings

ROOT = Path(__file__).resolve().parent.parent


# -- migrate -------------------------------------------------------------------------------


async def _migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from backend.connectors.catalog import sync_catalog
    from backend.lib import db

    result = await run_forwards(app_name="switchboard")
    if not result.success:
        raise SystemExit(f"migrations failed: {result.message}")
    await db.open_pool(2)
    try:
        count = await sync_catalog(get_settings())
    finally:
        await db.close_pool()
    print(f"migrations applied; {count} connectors in the catalog")


def cmd_migrate(args: argparse.Namespace) -> None:
    asyncio.run(_migrate())


# -- tenants and keys ----------------------------------------------------------------------


async def _with_db(coro_fn: Any) -> Any:
    from backend.lib import db
    from backend.tenants.vault import init_vault

    init_vault(get_settings().master_keys)
    await db.open_pool(2)
    try:
        return await coro_fn()
    finally:
        await db.close_pool()


def cmd_tenants_create(args: argparse.Namespace) -> None:
    from backend.tenants.services import create_tenant

    tenant_id, key = asyncio.run(_with_db(lambda: create_tenant(args.name)))
    print(json.dumps({"tenant_id": str(tenant_id), "api_key": key}))


def cmd_tenants_list(args: argparse.Namespace) -> None:
    from backend.tenants.services import list_tenants

    rows = asyncio.run(_with_db(list_tenants))
    print(
        json.dumps(
            [
                {
                    "tenant_id": str(r["id"]),
                    "name": r["name"],
                    "created_at": r["created_at"].isoformat(),
                }
                for r in rows
            ]
        )
    )


def cmd_keys_rotate(args: argparse.Namespace) -> None:
    """Re-wrap every data key under the newest master key; with --data-keys also start a
    new data-key version per tenant (old ciphertexts keep decrypting)."""
    from backend.tenants.tables import Tenant
    from backend.tenants.vault import get_vault

    async def rotate() -> dict[str, int]:
        vault = get_vault()
        rewrapped = await vault.rewrap_all()
        added = 0
        if args.data_keys:
            for row in await Tenant.select(Tenant.id):
                await vault.add_data_key(str(row["id"]))
                added += 1
        return {"rewrapped": rewrapped, "new_data_keys": added}

    print(json.dumps(asyncio.run(_with_db(rotate))))


# -- servers -------------------------------------------------------------------------------


def cmd_api(args: argparse.Namespace) -> None:
    host, port = args.host, args.port
    if args.server == "uvicorn":
        import uvicorn

        # proxy_headers off: forwarded headers are believed only from SWITCHBOARD_TRUSTED_PROXIES.
        uvicorn.run(
            "backend.asgi:app",
            proxy_headers=False,
            factory=True,
            host=host,
            port=port,
            loop="uvloop",
            http="httptools",
            access_log=False,
            workers=args.workers,
        )
        return
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "backend.asgi:app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=args.workers,
        log_access=False,
    ).serve()


def cmd_worker(args: argparse.Namespace) -> None:
    from arq.worker import run_worker

    from backend.worker import WorkerSettings

    run_worker(WorkerSettings)  # type: ignore[arg-type]


def dashboard_env(api_url: str, port: int) -> dict[str, str]:
    """The environment mk/dashboard.mk gives Reflex: project-local bun and Reflex dir."""
    tools = ROOT / ".tools"
    env = dict(os.environ)
    env.update(
        {
            "SWITCHBOARD_API_URL": api_url,
            "SWITCHBOARD_DASHBOARD_PORT": str(port),
            "REFLEX_TELEMETRY_ENABLED": "false",
            "REFLEX_CHECK_LATEST_VERSION": "false",
            "REFLEX_DIR": str(tools / "reflex"),
            "REFLEX_BUN_PATH": str(tools / "bin" / "bun"),
            "BUN_INSTALL_CACHE_DIR": str(tools / "bun-cache"),
        }
    )
    return env


def dashboard_command(port: int) -> list[str]:
    reflex = ROOT / ".venv-dashboard" / "bin" / "reflex"
    if not reflex.exists() or not (ROOT / ".tools" / "bin" / "bun").exists():
        raise SystemExit(
            "the dashboard environment is missing: run `make dashboard-deps` (or `make run`)"
        )
    return [str(reflex), "run", "--env", "prod", "--frontend-port", str(port)]


def cmd_dashboard(args: argparse.Namespace) -> None:
    settings = get_settings()
    env = dashboard_env(settings.effective_api_url, args.port)
    os.execve(dashboard_command(args.port)[0], dashboard_command(args.port), env)


def cmd_up(args: argparse.Namespace) -> None:
    from backend.lib.crypto import generate_master_key

    settings = get_settings()
    var = settings.var_dir.resolve()
    var.mkdir(parents=True, exist_ok=True)
    stoppers: list[Any] = []
    children: list[subprocess.Popen[bytes]] = []
    env = dict(os.environ)

    if not settings.master_key:
        key_file = var / "master.key"
        if not key_file.exists():
            key_file.write_text(generate_master_key() + "\n")
            key_file.chmod(0o600)
            print(
                f"generated a master key in {key_file} (set SWITCHBOARD_MASTER_KEY in production)"
            )
        else:
            print(f"using the master key in {key_file}")
        env["SWITCHBOARD_MASTER_KEY"] = key_file.read_text().strip()
    try:
        if not settings.database_url:
            from backend.embedded import EmbeddedPostgres

            pg = EmbeddedPostgres(var)
            env["DATABASE_URL"] = pg.start()
            stoppers.append(pg.stop)
            print(f"embedded PostgreSQL: data in {pg.pgdata}")
        if not settings.redis_url:
            from backend.embedded import EmbeddedRedis

            redis = EmbeddedRedis(var)
            env["REDIS_URL"] = redis.start()
            stoppers.append(redis.stop)
            print(f"embedded Redis: {env['REDIS_URL']} (data in {redis.dir})")
        me = [sys.executable, "-m", "backend"]
        subprocess.run([*me, "migrate"], env=env, check=True)
        demo = _ensure_demo_tenant(me, env, var)

        children.append(subprocess.Popen([*me, "api", "--port", str(settings.api_port)], env=env))
        children.append(subprocess.Popen([*me, "worker"], env=env))
        api_url = settings.api_url or f"http://127.0.0.1:{settings.api_port}"
        if not args.no_dashboard:
            children.append(
                subprocess.Popen(
                    dashboard_command(settings.dashboard_port),
                    env=dashboard_env(api_url, settings.dashboard_port),
                    cwd=ROOT,
                )
            )
        print(
            "\nSwitchboard is starting:\n"
            f"  api        http://localhost:{settings.api_port}  (/schema docs, /ready)\n"
            f"  dashboard  http://localhost:{settings.dashboard_port}\n"
            f"  demo tenant {demo['tenant_id']}\n"
            f"  demo API key {demo['api_key']}\n"
            "Press Ctrl-C to stop everything.\n",
            flush=True,
        )
        _wait(children)
    finally:
        _stop(children)
        for stop in reversed(stoppers):
            stop()
        print("stopped.")


def _ensure_demo_tenant(me: list[str], env: dict[str, str], var: Path) -> dict[str, str]:
    """The demo tenant's key is kept in ./var/demo-tenant.json (local use only) so `up`
    can print it on every start; production tenants' keys are never stored in clear."""
    path = var / "demo-tenant.json"
    if path.exists():
        demo: dict[str, str] = json.loads(path.read_text())
        listed = subprocess.run([*me, "tenants", "list"], env=env, check=True, capture_output=True)
        if any(t["tenant_id"] == demo["tenant_id"] for t in json.loads(listed.stdout)):
            return demo
    out = subprocess.run(
        [*me, "tenants", "create", "demo"], env=env, check=True, capture_output=True
    )
    demo = json.loads(out.stdout)
    path.write_text(json.dumps(demo))
    path.chmod(0o600)
    return demo


def _wait(children: list[subprocess.Popen[bytes]]) -> None:
    stop = {"now": False}

    def on_signal(signum: int, frame: Any) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stop["now"]:
        for child in children:
            if child.poll() is not None:
                print(f"a child exited ({child.args!r}, code {child.returncode}); stopping")
                return
        time.sleep(0.5)


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 8
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


# -- argument parsing ----------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    settings_help = "environment settings:\n" + describe()
    p = argparse.ArgumentParser(
        prog="switchboard",
        description="Switchboard integrations platform",
        epilog=settings_help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)

    up = sub.add_parser(
        "up",
        help="start everything (embedded databases when no URLs are set)",
        epilog=settings_help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    up.add_argument("--no-dashboard", action="store_true", help="start api and worker only")
    up.set_defaults(func=cmd_up)

    api = sub.add_parser("api", help="serve the REST API and webhook receiver")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=get_settings().api_port)
    api.add_argument("--workers", type=int, default=1)
    # uvicorn (uvloop + httptools) by default: on the webhook path it measured ~25% more
    # events/s and a lower p99 than granian 2.8 (benchmarks/webhook_ingest.py, make bench).
    api.add_argument(
        "--server",
        choices=["uvicorn", "granian"],
        default=os.environ.get("SWITCHBOARD_SERVER", "uvicorn"),
        help="ASGI server (default uvicorn; env SWITCHBOARD_SERVER)",
    )
    api.set_defaults(func=cmd_api)

    sub.add_parser("worker", help="run the background worker").set_defaults(func=cmd_worker)

    dash = sub.add_parser("dashboard", help="serve the dashboard (from .venv-dashboard)")
    dash.add_argument("--port", type=int, default=get_settings().dashboard_port)
    dash.set_defaults(func=cmd_dashboard)

    sub.add_parser(
        "migrate", help="apply migrations and sync the connector catalog (idempotent)"
    ).set_defaults(func=cmd_migrate)

    tenants = sub.add_parser("tenants", help="manage tenants").add_subparsers(
        dest="tenants_command", required=True
    )
    create = tenants.add_parser("create", help="create a tenant; prints its API key once")
    create.add_argument("name")
    create.set_defaults(func=cmd_tenants_create)
    tenants.add_parser("list", help="list tenants").set_defaults(func=cmd_tenants_list)

    keys = sub.add_parser("keys", help="manage encryption keys").add_subparsers(
        dest="keys_command", required=True
    )
    rotate = keys.add_parser("rotate", help="re-wrap data keys under the newest master key")
    rotate.add_argument(
        "--data-keys", action="store_true", help="also start a new data-key version per tenant"
    )
    rotate.set_defaults(func=cmd_keys_rotate)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
