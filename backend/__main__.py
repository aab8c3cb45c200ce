"""The `switchboard` command: up, api, worker, dashboard, migrate, tenants, keys.

Modules that touch the database are imported inside each command, after `up` has put the
embedded servers' URLs in the environment (Piccolo reads DATABASE_URL at import).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from backend.lib.crypto import ensure_master_key_file
from backend.lib.private_files import replace_private_file
from backend.settings import SettingsError, check_settings, describe, get_settings
from backend.supervisor import GaveUp, Supervisor

ROOT = Path(__file__).resolve().parent.parent


# -- migrate -------------------------------------------------------------------------------


async def _migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from backend.catalog.services import sync_catalog
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
    from backend.worker import run

    run()


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
            "switchboard: the dashboard environment is missing: run `make dashboard-deps` "
            "(or `make run`), or start with --no-dashboard"
        )
    return [str(reflex), "run", "--env", "prod", "--frontend-port", str(port)]


def cmd_dashboard(args: argparse.Namespace) -> None:
    settings = get_settings()
    env = dashboard_env(settings.effective_api_url, args.port)
    os.execve(dashboard_command(args.port)[0], dashboard_command(args.port), env)


def cmd_up(args: argparse.Namespace) -> None:
    """Everything in one command. Settings are checked before anything starts; the children
    (api, worker, dashboard) are supervised: one that dies is restarted, within a budget."""
    settings = get_settings()
    check_settings(settings, master_keys=bool(settings.master_key))
    dashboard = None if args.no_dashboard else dashboard_command(settings.dashboard_port)
    var = settings.var_dir.resolve()
    var.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if not settings.master_key:
        key_file = var / "master.key"
        key, created = ensure_master_key_file(key_file)
        if created:
            print(
                f"generated a master key in {key_file} (set SWITCHBOARD_MASTER_KEY in production)"
            )
        else:
            print(f"using the master key in {key_file}")
        check_settings(settings)  # an existing file may hold a damaged key
        env["SWITCHBOARD_MASTER_KEY"] = key
    stoppers: list[Any] = []
    supervisor = Supervisor(max_restarts=settings.restart_limit)
    failure = ""
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
        print(_run_step([*me, "migrate"], env), end="", flush=True)
        demo = _ensure_demo_tenant(me, env, var)

        supervisor.start("api", [*me, "api", "--port", str(settings.api_port)], env)
        supervisor.start("worker", [*me, "worker"], env)
        if dashboard:
            supervisor.start(
                "dashboard",
                dashboard,
                dashboard_env(settings.effective_api_url, settings.dashboard_port),
                cwd=ROOT,
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
        supervisor.run()
    except GaveUp as exc:
        failure = str(exc)
    finally:
        supervisor.stop()
        for stop in reversed(stoppers):
            stop()
        print("stopped.", flush=True)
    if failure:
        raise SystemExit(f"switchboard: {failure}")


def _run_step(command: list[str], env: dict[str, str]) -> str:
    """A start-up step as a child process; its failure ends `up` with one line (the child
    has already printed why)."""
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"switchboard: `{' '.join(command[2:])}` failed; see above")
    return done.stdout


def _ensure_demo_tenant(me: list[str], env: dict[str, str], var: Path) -> dict[str, str]:
    """The demo tenant's key is kept in ./var/demo-tenant.json (local use only) so `up`
    can print it on every start; production tenants' keys are never stored in clear."""
    path = var / "demo-tenant.json"
    if path.exists():
        demo: dict[str, str] = json.loads(path.read_text())
        listed = _run_step([*me, "tenants", "list"], env)
        if any(t["tenant_id"] == demo["tenant_id"] for t in json.loads(listed)):
            return demo
    demo = json.loads(_run_step([*me, "tenants", "create", "demo"], env))
    replace_private_file(path, json.dumps(demo))
    return demo


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


# Commands that open the vault need a usable master key before they start.
_NEEDS_MASTER_KEY = {"api", "worker", "tenants", "keys"}


def main(argv: list[str] | None = None) -> None:
    try:
        args = parser().parse_args(argv)
        if args.command != "up":  # `up` may generate the key and start servers first
            check_settings(
                get_settings(),
                master_keys=args.command in _NEEDS_MASTER_KEY,
                server_urls=args.command in {"api", "worker"},
            )
        args.func(args)
    except SettingsError as exc:
        raise SystemExit(f"switchboard: {exc}") from None


if __name__ == "__main__":
    main()
