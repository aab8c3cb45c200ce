"""Tenant B can neither see nor touch tenant A's integrations, events or logs — and can't
tell them apart from ids that do not exist."""

from __future__ import annotations

import uuid


async def test_other_tenant_gets_404_everywhere(client, make_tenant) -> None:
    a, b = await make_tenant("tenant-a"), await make_tenant("tenant-b")
    r = await client.post(
        "/api/integrations", json={"connector_id": "webhook", "name": "A's"}, headers=a.headers
    )
    iid = r.json()["integration"]["id"]
    missing = str(uuid.uuid4())

    calls = [
        ("GET", "/api/integrations/{id}", None),
        ("PATCH", "/api/integrations/{id}", {"name": "stolen"}),
        ("POST", "/api/integrations/{id}/test", None),
        ("POST", "/api/integrations/{id}/refresh", None),
        ("POST", "/api/integrations/{id}/reconnect", None),
        ("POST", "/api/integrations/{id}/revoke", None),
        ("POST", "/api/integrations/{id}/webhook/rotate", None),
        ("POST", "/api/integrations/{id}/webhook/register", None),
        ("DELETE", "/api/integrations/{id}", None),
        ("GET", "/api/integrations/{id}/logs", None),
        ("GET", "/api/integrations/{id}/events", None),
        ("GET", f"/api/integrations/{{id}}/events/{uuid.uuid4()}", None),
        ("POST", f"/api/integrations/{{id}}/events/{uuid.uuid4()}/replay", None),
        ("POST", "/api/integrations/{id}/events/replay-failed", None),
    ]
    for method, path, body in calls:
        theirs = await client.request(method, path.format(id=iid), json=body, headers=b.headers)
        nothing = await client.request(
            method, path.format(id=missing), json=body, headers=b.headers
        )
        assert theirs.status_code == 404, (method, path, theirs.text)
        assert nothing.status_code == 404
        assert theirs.json()["detail"] == nothing.json()["detail"]
        assert theirs.json()["type"] == nothing.json()["type"]

    listed = (await client.get("/api/integrations", headers=b.headers)).json()
    assert iid not in [i["id"] for i in listed["items"]]
    assert iid not in (await client.get("/api/audit", headers=b.headers)).text

    # A's integration is untouched.
    still = (await client.get(f"/api/integrations/{iid}", headers=a.headers)).json()
    assert still["name"] == "A's" and still["status"] == "connected"


async def test_malformed_ids_are_404(client, tenant) -> None:
    for bad in ["not-a-uuid", "1", "%00"]:
        r = await client.get(f"/api/integrations/{bad}", headers=tenant.headers)
        assert r.status_code == 404
