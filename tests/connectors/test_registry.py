"""Discovery: every provider folder is found without a list, in catalog order, and a broken
folder stops the load with a message naming it (checked on throwaway provider packages)."""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import get_args

import pytest

from backend.connectors import providers as providers_package
from backend.connectors.registry import load_providers, provider_folders, providers
from backend.connectors.spec import Category, SpecError

PROVIDERS_DIR = Path(providers_package.__file__).parent

SPEC = """
from backend.connectors.spec import ConnectorSpec, HealthCheck, OAuthSpec, RateLimitPolicy

SPEC = ConnectorSpec(
    key="{key}",
    name="{name}",
    category="{category}",
    description="A provider made up for a registry test.",
    icon="box",
    docs_url="https://example.com/docs",
    auth_type="api_key" if {oauth!r} == "" else "oauth2",
    api_base_url="https://api.example.com",
    credential_fields=() if {oauth!r} else (CredentialField(name="api_key", label="Key"),),
    oauth=None if {oauth!r} == "" else OAuthSpec(
        authorize_url="https://example.com/authorize",
        token_url="https://example.com/token",
        docs_url="https://example.com/oauth",
        {oauth}
    ),
    rate_limit=RateLimitPolicy(requests=10, per_seconds=1.0),
    health=HealthCheck(path="/me"),
    hooks={hooks!r},
)
""".replace("import ConnectorSpec,", "import ConnectorSpec, CredentialField,")

ADAPTER = """
from backend.connectors.base import Adapter, HealthResult
from {package}.{key}.spec import SPEC
{extra}

class MadeUpAdapter(Adapter):
    spec = SPEC

    async def check_health(self) -> HealthResult:
        return HealthResult(True, "healthy", "nothing to check")
"""

SIMULATOR = """
from backend.connectors.simulator import ProviderSimulator, json_response
from {package}.{key}.spec import SPEC

SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(),
    credential=lambda request: True,
    unauthorized=lambda request: json_response(401, {{}}),
    rate_limited=lambda request, seconds: json_response(429, {{}}),
)
"""


class Package:
    """A throwaway providers package on sys.path, with folders written on demand."""

    def __init__(self, root: Path) -> None:
        self.name = f"made_up_providers_{uuid.uuid4().hex[:8]}"
        self.dir = root / self.name
        self.dir.mkdir()
        (self.dir / "__init__.py").write_text("")

    def folder(
        self,
        key: str,
        *,
        name: str = "",
        category: str = "generic",
        oauth: str = "",
        hooks: tuple[str, ...] = (),
        adapter_extra: str = "",
        hooks_py: str | None = None,
    ) -> Path:
        folder = self.dir / key
        folder.mkdir()
        (folder / "__init__.py").write_text("")
        spec = SPEC.format(
            key=key, name=name or key.title(), category=category, oauth=oauth, hooks=hooks
        )
        (folder / "spec.py").write_text(spec)
        values = {"package": self.name, "key": key, "extra": adapter_extra}
        (folder / "adapter.py").write_text(ADAPTER.format(**values))
        (folder / "simulator.py").write_text(SIMULATOR.format(**values))
        if hooks_py is not None:
            (folder / "hooks.py").write_text(hooks_py)
        return folder


@pytest.fixture
def made_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Package]]:
    monkeypatch.syspath_prepend(str(tmp_path))
    made: list[Package] = []

    def make() -> Package:
        made.append(Package(tmp_path))
        return made[-1]

    yield make
    for package in made:
        for module in [m for m in sys.modules if m.split(".")[0] == package.name]:
            del sys.modules[module]


def test_every_folder_with_a_spec_is_registered_and_nothing_else() -> None:
    on_disk = {
        path.parent.name
        for path in PROVIDERS_DIR.glob("*/spec.py")
        if not path.parent.name.startswith("_")
    }
    assert set(providers()) == on_disk
    assert provider_folders() == sorted(on_disk)


def test_catalog_order_is_category_then_name() -> None:
    order = [(p.spec.category, p.spec.name.casefold()) for p in providers().values()]
    ranks = {category: rank for rank, category in enumerate(get_args(Category))}
    assert order == sorted(order, key=lambda item: (ranks[item[0]], item[1]))
    keys = list(providers())
    assert keys.index("gmail") < keys.index("slack") < keys.index("github") < keys.index("webhook")


def test_a_new_folder_is_found_and_placed_by_category_and_name(made_up) -> None:
    package = made_up()
    package.folder("zeta", name="Zeta", category="chat")
    package.folder("alpha", name="Alpha", category="generic")
    package.folder("beta", name="Beta", category="chat")
    (package.dir / "_shared").mkdir()
    (package.dir / "_shared" / "__init__.py").write_text("")
    (package.dir / "gone" / "__pycache__").mkdir(parents=True)  # a deleted provider's leftovers
    assert list(load_providers(package.name)) == ["beta", "zeta", "alpha"]


def test_a_folder_without_a_spec_fails_naming_it(made_up) -> None:
    package = made_up()
    package.folder("fine")
    (package.dir / "halfdone").mkdir()
    (package.dir / "halfdone" / "adapter.py").write_text("")
    with pytest.raises(SpecError, match=r"provider folder 'halfdone' has no spec\.py"):
        load_providers(package.name)


def test_a_folder_that_does_not_import_fails_naming_it(made_up) -> None:
    package = made_up()
    package.folder("broken", adapter_extra="undefined_name + 1")
    with pytest.raises(SpecError, match="provider folder 'broken' does not load: NameError"):
        load_providers(package.name)


def test_a_category_outside_the_vocabulary_fails(made_up) -> None:
    package = made_up()
    package.folder("odd", category="astrology")
    with pytest.raises(SpecError, match=r"connector 'odd':.*\$\.category"):
        load_providers(package.name)


@pytest.mark.parametrize(
    ("oauth", "where"),
    [
        (
            'token_response_metadata={"team_id": "team..id"},',
            "oauth.token_response_metadata['team_id']",
        ),
        ('user_token_path="authed user",', "oauth.user_token_path"),
    ],
)
def test_a_malformed_dotted_path_fails_naming_the_field(made_up, oauth: str, where: str) -> None:
    package = made_up()
    package.folder("pathy", oauth=oauth)
    with pytest.raises(
        SpecError, match=rf"connector 'pathy': {re.escape(where)} is not a dotted path"
    ):
        load_providers(package.name)


def test_well_formed_paths_load(made_up) -> None:
    package = made_up()
    package.folder("pathy", oauth='token_response_metadata={"team_id": "team.id"},')
    assert list(load_providers(package.name)) == ["pathy"]


def test_a_named_hook_must_exist_in_the_folder(made_up) -> None:
    package = made_up()
    package.folder("hooked", hooks=("after_consent",), hooks_py="async def other(): ...\n")
    with pytest.raises(SpecError, match=r"connector 'hooked':.*after_consent"):
        load_providers(package.name)


def test_named_hooks_are_bound(made_up) -> None:
    package = made_up()
    hooks_py = "async def after_consent(token, http, api_base):\n    return {}\n"
    package.folder("hooked", hooks=("after_consent",), hooks_py=hooks_py)
    loaded = load_providers(package.name)["hooked"]
    assert list(loaded.hooks) == ["after_consent"]
    assert loaded.hooks["after_consent"].__module__ == f"{package.name}.hooked.hooks"
