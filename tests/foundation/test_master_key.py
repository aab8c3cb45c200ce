"""Master keys as operators make them: either base64 alphabet, padded or not; a bad key or
setting stops `up` with one clear line before anything starts; the generated key file is
private from the moment it exists."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from backend.embedded import free_port
from backend.lib.crypto import MasterKeyring, VaultError
from tests.foundation.cli_support import Processes, cli_env


def _urlsafe_key() -> tuple[bytes, str]:
    """A key whose URL-safe encoding really differs from the standard one."""
    while True:
        raw = os.urandom(32)
        text = base64.urlsafe_b64encode(raw).decode()
        if "-" in text or "_" in text:
            return raw, text


@pytest.mark.parametrize("padded", [True, False])
def test_both_alphabets_with_or_without_padding_decode_to_the_key(padded: bool) -> None:
    for _ in range(200):
        raw = os.urandom(32)
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(raw).decode()
            text = text if padded else text.rstrip("=")
            assert MasterKeyring.from_strings((text,)).keys == (raw,), text


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (base64.b64encode(os.urandom(31)).decode(), "decodes to 31 bytes"),
        (base64.urlsafe_b64encode(os.urandom(48)).decode(), "decodes to 48 bytes"),
        ("not base64 at all!", "is not base64"),
        ("ab+cd-" + base64.b64encode(os.urandom(27)).decode(), "is not base64"),
        ("A" * 43 + "==", "is not base64"),
    ],
    ids=["31-bytes", "48-bytes-urlsafe", "not-base64", "mixed-alphabets", "bad-padding"],
)
def test_a_bad_master_key_is_named_in_one_line_without_its_value(key: str, message: str) -> None:
    good = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(VaultError) as caught:
        MasterKeyring.from_strings((good, key))
    text = str(caught.value)
    assert "master key #2" in text and message in text and "\n" not in text
    assert key not in text and good not in text


async def test_cli_works_with_an_unpadded_urlsafe_master_key(scratch_database: str) -> None:
    _, key = _urlsafe_key()
    env = cli_env(DATABASE_URL=scratch_database, SWITCHBOARD_MASTER_KEY=key.rstrip("="))
    for args in (["migrate"], ["tenants", "create", "urlsafe"]):
        done = subprocess.run(
            [sys.executable, "-m", "backend", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["api_key"].startswith("sb_")


_SHORT_KEY = base64.b64encode(os.urandom(24)).decode()
_JUNK_KEY = "this-is-not-a-key"


_BAD_SETTINGS = [
    pytest.param("SWITCHBOARD_MASTER_KEY", _SHORT_KEY, _SHORT_KEY, id="short-key"),
    pytest.param("SWITCHBOARD_MASTER_KEY", _JUNK_KEY, _JUNK_KEY, id="junk-key"),
    pytest.param("DATABASE_URL", "mysql://app:hunter2@db.example/app", "hunter2", id="db-scheme"),
    pytest.param("REDIS_URL", "http://:hunter2@127.0.0.1:6379/0", "hunter2", id="redis-scheme"),
    pytest.param("REDIS_URL", "redis://127.0.0.1:6379/zero", None, id="redis-db"),
    pytest.param("PUBLIC_BASE_URL", "hooks.example.com", None, id="public-url"),
    pytest.param("SWITCHBOARD_DASHBOARD_URL", "ftp://dash.example.com", None, id="dashboard-url"),
    pytest.param("SWITCHBOARD_TRUSTED_PROXIES", "10.0.0.0/33", None, id="proxy-cidr"),
    pytest.param("SWITCHBOARD_API_PORT", "70000", None, id="port"),
]


@pytest.mark.parametrize(("named", "value", "secret"), _BAD_SETTINGS)
def test_up_checks_settings_before_starting_anything(
    tmp_path: Path, processes: Processes, named: str, value: str, secret: str | None
) -> None:
    os.chmod(tmp_path, 0o755)  # the old code's embedded PostgreSQL runs as its own user
    var = tmp_path / "var"
    env = cli_env(
        DATABASE_URL=None,
        REDIS_URL=None,
        SWITCHBOARD_MASTER_KEY=None,
        SWITCHBOARD_VAR_DIR=str(var),
        SWITCHBOARD_API_PORT=str(free_port()),
    )
    env[named] = value
    up = processes.start(["up", "--no-dashboard"], env)
    try:
        up.wait(60)
    except subprocess.TimeoutExpired:
        pytest.fail("`up` started although a setting is invalid")
    output = processes.output(up).strip()
    assert up.returncode != 0
    assert len(output.splitlines()) == 1, output
    assert named in output and "Traceback" not in output
    if secret:
        assert secret not in output
    # Nothing was started or created: no embedded servers, no generated key.
    assert not (var / "postgres").exists() and not (var / "redis").exists(), output
    assert not (var / "master.key").exists()


# Runs `switchboard up` with an audit hook that, at every audited operation of the process
# (each open, chmod, link, rename, ... up to starting the first child), looks at
# var/master.key as another reader would: it must never exist world- or group-readable or
# half-written. At the first child process the hook stops `up`.
_WATCH_KEY_FILE = r"""
import json, os, stat, sys
key_path, report = sys.argv[1], sys.argv[2]
seen, busy = [], [False]

def watch(event, args):
    if busy[0]:
        return
    busy[0] = True
    try:
        try:
            mode = stat.S_IMODE(os.stat(key_path).st_mode)
        except FileNotFoundError:
            mode = None
        if mode is not None:
            with open(key_path) as f:
                seen.append({"event": event, "mode": mode, "key": f.read().strip()})
        if event == "subprocess.Popen":
            with open(report, "w") as f:
                json.dump(seen, f)
            raise RuntimeError("stopped by the test before the first child")
    finally:
        busy[0] = False

os.umask(0o022)
sys.addaudithook(watch)
from backend.__main__ import main
main(["up", "--no-dashboard"])
"""


async def test_generated_master_key_is_private_from_the_moment_it_exists(
    tmp_path: Path, scratch_database: str
) -> None:
    var = tmp_path / "var"
    key_path, report = var / "master.key", tmp_path / "report.json"
    # A database of its own: `up` migrates and writes with the key it generates, which
    # would leave rows the run's own master key cannot open.
    env = cli_env(
        SWITCHBOARD_MASTER_KEY=None, SWITCHBOARD_VAR_DIR=str(var), DATABASE_URL=scratch_database
    )
    subprocess.run(
        [sys.executable, "-c", _WATCH_KEY_FILE, str(key_path), str(report)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    seen = json.loads(report.read_text())
    final = key_path.read_text().strip()
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert len(base64.b64decode(final)) == 32
    assert seen, "the key file was never observed"
    assert [s for s in seen if s["mode"] != 0o600 or s["key"] != final] == []


def test_racing_creators_agree_on_one_private_key(tmp_path: Path) -> None:
    from backend.lib.crypto import ensure_master_key_file

    path = tmp_path / "master.key"
    barrier = threading.Barrier(8)
    results: list[tuple[str, bool]] = []

    def create() -> None:
        barrier.wait()
        results.append(ensure_master_key_file(path))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len({key for key, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    assert results[0][0] == path.read_text().strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.key"]
