"""GET /api/integrations/{id}/records: the stored records, newest first by when each was
first seen, a page at a time, deleted ones only when asked for, one stream or all."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.syncs.api_helpers import RECORD_KEYS, insert_record

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


async def seeded(make_integration: Any, tenant: Any) -> tuple[Any, dict[str, str]]:
    """customers c0..c4 (c3 deleted) and invoices i0..i1, first seen a minute apart."""
    made = await make_integration(tenant, "stripe", credentials={"secret_key": "sk_test_x"})
    ids = {}
    for n in range(5):
        ids[f"c{n}"] = str(
            await insert_record(
                made.id,
                tenant.id,
                "customers",
                f"cus_{n}",
                first_seen_at=T0 + dt.timedelta(minutes=n),
                deleted=n == 3,
            )
        )
    for n in range(2):
        ids[f"i{n}"] = str(
            await insert_record(
                made.id,
                tenant.id,
                "invoices",
                f"in_{n}",
                first_seen_at=T0 + dt.timedelta(minutes=10 + n),
            )
        )
    return made, ids


async def test_records_have_the_documented_shape(client, tenant, make_integration) -> None:
    made, ids = await seeded(make_integration, tenant)

    response = await client.get(
        f"/api/integrations/{made.id}/records",
        params={"stream": "customers", "limit": 1},
        headers=tenant.headers,
    )

    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert set(item) == RECORD_KEYS
    assert item == {
        "id": ids["c4"],
        "stream": "customers",
        "external_id": "cus_4",
        "data": {"id": "cus_4"},
        "mapped": {"name": "cus_4"},
        "mapping_version": 2,
        "deleted": False,
        "first_seen_at": "2026-11-01T00:04:00Z",
        "updated_at": "2026-11-01T00:04:00Z",
    }
    assert response.json()["next_cursor"] is not None


async def test_pages_newest_first_without_deleted_records(client, tenant, make_integration) -> None:
    made, ids = await seeded(make_integration, tenant)
    url = f"/api/integrations/{made.id}/records"

    async def walk(**params: Any) -> list[str]:
        seen, cursor = [], None
        while True:
            query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
            page = await client.get(url, params=query, headers=tenant.headers)
            assert page.status_code == 200, page.text
            seen += [r["id"] for r in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return seen

    assert await walk() == [ids[k] for k in ("i1", "i0", "c4", "c2", "c1", "c0")]
    assert await walk(stream="customers") == [ids[k] for k in ("c4", "c2", "c1", "c0")]
    assert await walk(stream="customers", include_deleted="true") == [
        ids[k] for k in ("c4", "c3", "c2", "c1", "c0")
    ]
    assert await walk(stream="charges") == []


async def test_a_page_boundary_survives_new_records(client, tenant, make_integration) -> None:
    """A sync that adds records while a client pages does not shift what is left to read."""
    made, ids = await seeded(make_integration, tenant)
    url = f"/api/integrations/{made.id}/records"
    first = (
        await client.get(url, params={"stream": "customers", "limit": 2}, headers=tenant.headers)
    ).json()
    await insert_record(
        made.id, tenant.id, "customers", "cus_new", first_seen_at=dt.datetime.now(dt.UTC)
    )

    rest = await client.get(
        url,
        params={"stream": "customers", "cursor": first["next_cursor"]},
        headers=tenant.headers,
    )

    assert [r["id"] for r in first["items"]] == [ids["c4"], ids["c2"]]
    assert [r["id"] for r in rest.json()["items"]] == [ids["c1"], ids["c0"]]


async def test_bad_list_parameters_are_problems(client, tenant, make_integration) -> None:
    made, _ = await seeded(make_integration, tenant)
    url = f"/api/integrations/{made.id}/records"

    for params in ({"cursor": "nope"}, {"limit": 0}, {"limit": 201}):
        response = await client.get(url, params=params, headers=tenant.headers)
        assert response.status_code in (400, 422), (params, response.text)
        assert response.json()["errors"][0]["field"] in params


async def test_another_tenants_records_are_404(client, tenant, make_tenant, make_integration):
    made, _ = await seeded(make_integration, tenant)
    intruder = await make_tenant("records-intruder")

    response = await client.get(f"/api/integrations/{made.id}/records", headers=intruder.headers)

    assert response.status_code == 404
