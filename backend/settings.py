"""Typed settings read once from the environment.

Every field documents itself; `switchboard up --help` and the README print these docs,
so the list of knobs cannot drift from the code.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from backend.lib.crypto import MasterKeyring, VaultError


class SettingsError(ValueError):
    """A setting is malformed. The message is one line naming the variable, and never
    repeats a secret (a master key, a password inside a URL)."""


def _doc(text: str, env: str) -> dict[str, str]:
    return {"doc": text, "env": env}


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = field(
        default="",
        metadata=_doc(
            "PostgreSQL URL (postgresql://user@host:port/db). Empty: `up` starts an embedded "
            "PostgreSQL under ./var/.",
            env="DATABASE_URL",
        ),
    )
    redis_url: str = field(
        default="",
        metadata=_doc(
            "Redis URL (redis://host:port/0). Empty: `up` starts an embedded Redis under ./var/.",
            env="REDIS_URL",
        ),
    )
    master_key: str = field(
        default="",
        metadata=_doc(
            "Comma-separated 32-byte master keys in base64 (standard or URL-safe alphabet, "
            "padding optional), newest first. The first wraps new tenant data keys; the others "
            "still unwrap old ones until `keys rotate` re-wraps them. Empty: `up` generates "
            "one under ./var/master.key.",
            env="SWITCHBOARD_MASTER_KEY",
        ),
    )
    public_base_url: str = field(
        default="http://localhost:8000",
        metadata=_doc(
            "Public URL of the api as providers and browsers reach it; webhook URLs, the OAuth "
            "redirect URI and Twilio signature checks are built from it.",
            env="PUBLIC_BASE_URL",
        ),
    )
    dashboard_url: str = field(
        default="http://localhost:3000",
        metadata=_doc(
            "Public URL of the dashboard; the OAuth callback sends browsers back here.",
            env="SWITCHBOARD_DASHBOARD_URL",
        ),
    )
    allowed_return_origins: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "Comma-separated extra origins the OAuth callback may redirect to "
            "(the dashboard URL is always allowed).",
            env="SWITCHBOARD_ALLOWED_RETURN_ORIGINS",
        ),
    )
    allowed_private_hosts: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "Comma-separated hosts or CIDRs that tenant-supplied URLs may point at although they "
            "are loopback/private (tests use it to reach local provider servers).",
            env="SWITCHBOARD_ALLOWED_PRIVATE_HOSTS",
        ),
    )
    trusted_proxies: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "Comma-separated proxy IPs/CIDRs whose X-Forwarded-* headers are believed.",
            env="SWITCHBOARD_TRUSTED_PROXIES",
        ),
    )
    disabled_connectors: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "Comma-separated connector keys to hide from the catalog.",
            env="SWITCHBOARD_DISABLED_CONNECTORS",
        ),
    )
    max_body_bytes: int = field(
        default=1_048_576,
        metadata=_doc(
            "Largest request body accepted, in bytes (413 above).", env="SWITCHBOARD_MAX_BODY_BYTES"
        ),
    )
    api_rate_limit: int = field(
        default=600,
        metadata=_doc(
            "REST requests per minute per API key (429 with Retry-After above).",
            env="SWITCHBOARD_API_RATE_LIMIT",
        ),
    )
    failed_auth_limit: int = field(
        default=20,
        metadata=_doc(
            "Failed API-key attempts per minute per client IP (IPv6: per /64) before it gets "
            "429 with Retry-After, whatever key it sends; 0 turns the budget off.",
            env="SWITCHBOARD_FAILED_AUTH_LIMIT",
        ),
    )
    webhook_rate_limit: int = field(
        default=6000,
        metadata=_doc(
            "Webhook deliveries per minute per integration (429 with Retry-After above).",
            env="SWITCHBOARD_WEBHOOK_RATE_LIMIT",
        ),
    )
    queue_name: str = field(
        default="arq:queue",
        metadata=_doc(
            "The Redis sorted set jobs are queued in; processes sharing a Redis but not a "
            "database (e.g. parallel test runs) each need their own.",
            env="SWITCHBOARD_QUEUE_NAME",
        ),
    )
    log_retention_days_debug: int = field(
        default=3,
        metadata=_doc(
            "Days an integration's debug log entries are kept before the worker deletes "
            "them (chatty, rarely read after the fact); 0 keeps them forever.",
            env="SWITCHBOARD_LOG_RETENTION_DAYS_DEBUG",
        ),
    )
    log_retention_days_info: int = field(
        default=30,
        metadata=_doc(
            "Days info log entries are kept; 0 keeps them forever.",
            env="SWITCHBOARD_LOG_RETENTION_DAYS_INFO",
        ),
    )
    log_retention_days_warning: int = field(
        default=90,
        metadata=_doc(
            "Days warning log entries are kept; 0 keeps them forever.",
            env="SWITCHBOARD_LOG_RETENTION_DAYS_WARNING",
        ),
    )
    log_retention_days_error: int = field(
        default=180,
        metadata=_doc(
            "Days error log entries are kept (the evidence of an incident outlives routine "
            "entries); 0 keeps them forever.",
            env="SWITCHBOARD_LOG_RETENTION_DAYS_ERROR",
        ),
    )
    event_retention_days: int = field(
        default=30,
        metadata=_doc(
            "Days received webhook events (raw bodies, normalized envelopes) and their dedupe "
            "keys are kept; the worker drops whole days past it, so an event lives between "
            "this and one day more. A replay older than this is stored as new. 0 keeps them "
            "forever.",
            env="SWITCHBOARD_EVENT_RETENTION_DAYS",
        ),
    )
    metric_retention_days: int = field(
        default=35,
        metadata=_doc(
            "Days per-minute metric buckets are kept (the longest window read is 7 days); "
            "the worker drops whole days past it. 0 keeps them forever.",
            env="SWITCHBOARD_METRIC_RETENTION_DAYS",
        ),
    )
    db_pool_size: int = field(
        default=10,
        metadata=_doc("PostgreSQL connections per process.", env="SWITCHBOARD_DB_POOL_SIZE"),
    )
    http_timeout: float = field(
        default=10.0,
        metadata=_doc(
            "Seconds before a call to a provider gives up.", env="SWITCHBOARD_HTTP_TIMEOUT"
        ),
    )
    var_dir: Path = field(
        default=Path("var"),
        metadata=_doc(
            "Where `up` keeps embedded databases, the generated master key and logs.",
            env="SWITCHBOARD_VAR_DIR",
        ),
    )
    api_port: int = field(
        default=8000, metadata=_doc("Port of the api for `up`.", env="SWITCHBOARD_API_PORT")
    )
    dashboard_port: int = field(
        default=3000,
        metadata=_doc("Port of the dashboard for `up`.", env="SWITCHBOARD_DASHBOARD_PORT"),
    )
    restart_limit: int = field(
        default=5,
        metadata=_doc(
            "Times a minute `up` restarts a child (api, worker, dashboard) that died; one more "
            "death within the minute and `up` gives up and stops everything.",
            env="SWITCHBOARD_RESTART_LIMIT",
        ),
    )
    api_url: str = field(
        default="",
        metadata=_doc(
            "URL the dashboard uses to call the api (default http://127.0.0.1:<api port>).",
            env="SWITCHBOARD_API_URL",
        ),
    )
    otel_endpoint: str = field(
        default="",
        metadata=_doc(
            "OTLP/HTTP endpoint for traces (e.g. http://localhost:4318). Empty: nothing exported.",
            env="OTEL_EXPORTER_OTLP_ENDPOINT",
        ),
    )
    otel_service_name: str = field(
        default="switchboard",
        metadata=_doc("Service name on exported spans.", env="OTEL_SERVICE_NAME"),
    )
    log_level: str = field(
        default="INFO", metadata=_doc("Python log level.", env="SWITCHBOARD_LOG_LEVEL")
    )
    metrics_enabled: bool = field(
        default=False,
        metadata=_doc(
            "Serve the Prometheus scrape endpoint GET /metrics (operator only; needs "
            "SWITCHBOARD_METRICS_TOKEN).",
            env="SWITCHBOARD_METRICS_ENABLED",
        ),
    )
    metrics_token: str = field(
        default="",
        metadata=_doc(
            "Bearer token a Prometheus scraper sends to GET /metrics (the operator's, not a "
            "tenant's API key). Empty: /metrics answers 404 even when enabled.",
            env="SWITCHBOARD_METRICS_TOKEN",
        ),
    )

    @property
    def master_keys(self) -> tuple[str, ...]:
        """Configured keys, else the one `up` generated under the var dir (local use)."""
        raw = self.master_key
        if not raw:
            generated = self.var_dir / "master.key"
            raw = generated.read_text() if generated.exists() else ""
        return tuple(k.strip() for k in raw.split(",") if k.strip())

    @property
    def effective_api_url(self) -> str:
        return self.api_url or f"http://127.0.0.1:{self.api_port}"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        source = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            raw = source.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.type, raw, f.metadata["env"])
        return cls(**values)  # type: ignore[arg-type]


def _parse(type_name: object, raw: str, env: str) -> object:
    name = str(type_name)
    try:
        if name == "int":
            return int(raw)
        if name == "float":
            return float(raw)
        if name == "Path":
            return Path(raw)
        if name == "bool":
            return _parse_bool(raw)
        if name.startswith("tuple"):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError:
        raise SettingsError(f"{env}: {raw!r} is not a valid {name}") from None
    return raw.strip()


def _parse_bool(raw: str) -> bool:
    word = raw.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


_WEB = frozenset({"http", "https"})


def _url_problem(env: str, url: str, schemes: frozenset[str]) -> str | None:
    """Why `url` is unusable, or None. Database URLs may carry a password: never quoted back;
    they may also omit the host (a local socket)."""
    web = schemes == _WEB
    shown = repr(url) if web else "the value"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError:
        return f"{env}: {shown} is not a valid URL"
    if parts.scheme not in schemes:
        expected = " or ".join(f"{s}://" for s in sorted(schemes))
        return f"{env}: {shown} must start with {expected}"
    if web and not parts.hostname:
        return f"{env}: {shown} has no host"
    return None


def _redis_db_problem(url: str) -> str | None:
    parts = urlsplit(url)
    db = parts.path.strip("/")
    if parts.scheme != "unix" and db and not db.isdigit():
        return "REDIS_URL: the database after the host must be a number (redis://host:6379/0)"
    return None


def _number_problems(settings: Settings) -> list[str]:
    bounds = [
        ("SWITCHBOARD_API_PORT", settings.api_port, 1, 65535),
        ("SWITCHBOARD_DASHBOARD_PORT", settings.dashboard_port, 1, 65535),
        ("SWITCHBOARD_RESTART_LIMIT", settings.restart_limit, 0, None),
        ("SWITCHBOARD_MAX_BODY_BYTES", settings.max_body_bytes, 1, None),
        ("SWITCHBOARD_DB_POOL_SIZE", settings.db_pool_size, 1, None),
        ("SWITCHBOARD_API_RATE_LIMIT", settings.api_rate_limit, 0, None),
        ("SWITCHBOARD_WEBHOOK_RATE_LIMIT", settings.webhook_rate_limit, 0, None),
    ]
    problems = [
        f"{env}: {value} is out of range ({low}..{high if high is not None else ''})"
        for env, value, low, high in bounds
        if value < low or (high is not None and value > high)
    ]
    if settings.http_timeout <= 0:
        problems.append("SWITCHBOARD_HTTP_TIMEOUT: must be more than 0 seconds")
    return problems


def _url_problems(settings: Settings) -> list[str]:
    checks = [
        ("DATABASE_URL", settings.database_url, frozenset({"postgres", "postgresql"})),
        ("REDIS_URL", settings.redis_url, frozenset({"redis", "rediss", "unix"})),
        ("PUBLIC_BASE_URL", settings.public_base_url, _WEB),
        ("SWITCHBOARD_DASHBOARD_URL", settings.dashboard_url, _WEB),
        ("SWITCHBOARD_API_URL", settings.api_url, _WEB),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", settings.otel_endpoint, _WEB),
        *(
            ("SWITCHBOARD_ALLOWED_RETURN_ORIGINS", origin, _WEB)
            for origin in settings.allowed_return_origins
        ),
    ]
    problems = [
        problem
        for env, url, schemes in checks
        if url and (problem := _url_problem(env, url, schemes))
    ]
    if settings.redis_url and not any(p.startswith("REDIS_URL") for p in problems):
        problems += filter(None, [_redis_db_problem(settings.redis_url)])
    return problems


def _other_problems(settings: Settings) -> list[str]:
    problems = []
    for proxy in settings.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            problems.append(f"SWITCHBOARD_TRUSTED_PROXIES: {proxy!r} is not an IP address or CIDR")
    if not isinstance(logging.getLevelName(settings.log_level), int):
        problems.append(f"SWITCHBOARD_LOG_LEVEL: {settings.log_level!r} is not a log level")
    return problems


def _master_key_problems(settings: Settings) -> list[str]:
    generated = settings.var_dir / "master.key"
    if not settings.master_keys:
        return [
            f"SWITCHBOARD_MASTER_KEY: not set, and there is no {generated} "
            "(`switchboard up` generates one)"
        ]
    source = "SWITCHBOARD_MASTER_KEY" if settings.master_key else str(generated)
    try:
        MasterKeyring.from_strings(settings.master_keys)
    except VaultError as exc:
        return [f"{source}: {exc}"]
    return []


def check_settings(
    settings: Settings, *, master_keys: bool = True, server_urls: bool = False
) -> None:
    """Refuse malformed settings with one line naming every bad variable, before anything
    starts (otherwise they surface later as a traceback from a child process). With
    `master_keys`, the keys (configured, or the one `up` generated) must be usable too; with
    `server_urls`, DATABASE_URL and REDIS_URL must be set (only `up` starts embedded ones)."""
    problems = [*_url_problems(settings), *_number_problems(settings), *_other_problems(settings)]
    if server_urls:
        problems += [
            f"{env}: not set (only `switchboard up` starts an embedded server when it is empty)"
            for env, url in (
                ("DATABASE_URL", settings.database_url),
                ("REDIS_URL", settings.redis_url),
            )
            if not url
        ]
    if master_keys:
        problems += _master_key_problems(settings)
    if problems:
        raise SettingsError("; ".join(problems))


def describe() -> str:
    """One line per setting, for --help and the README."""
    lines = []
    for f in dataclasses.fields(Settings):
        default = f.default if f.default not in ("", ()) else "(empty)"
        lines.append(f"  {f.metadata['env']:<36} {f.metadata['doc']} Default: {default}.")
    return "\n".join(lines)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
