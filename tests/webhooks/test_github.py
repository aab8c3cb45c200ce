"""GitHub: X-Hub-Signature-256 over the raw body; id and event from headers."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from backend.connectors.base import WebhookVerificationError

from .helpers import fixture, handler, hub_signature, request, secrets

GITHUB = handler("github")
SECRET = "gh-webhook-secret-current"
OLD_SECRET = "gh-webhook-secret-previous"
DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"


def github_request(body: bytes, event: str, secret: str = SECRET, **extra: str):
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": DELIVERY,
        "X-Hub-Signature-256": hub_signature(secret, body),
        "Content-Type": "application/json",
        **extra,
    }
    return request(body, headers)


async def test_published_example_from_the_docs() -> None:
    body = b"Hello, World!"
    header = hub_signature("It's a Secret to Everybody", body)
    assert header == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    # The docs' body is not JSON: the signature holds, the JSON check then rejects it.
    with pytest.raises(WebhookVerificationError, match="malformed JSON body"):
        await GITHUB.verify(
            github_request(body, "ping", "It's a Secret to Everybody"),
            secrets("It's a Secret to Everybody"),
        )


@pytest.mark.parametrize(
    ("name", "event", "expected_type"),
    [
        ("issues__opened.json", "issues", "issues.opened"),
        ("pull_request__opened.json", "pull_request", "pull_request.opened"),
        ("push__new_branch.json", "push", "push"),
        ("ping__hook.json", "ping", "ping"),
    ],
)
async def test_fixtures_verify(name: str, event: str, expected_type: str) -> None:
    delivery = await GITHUB.verify(github_request(fixture("github", name), event), secrets(SECRET))
    assert delivery.event_id == DELIVERY
    assert delivery.event_type == expected_type
    assert delivery.store and delivery.reply is None


async def test_rotation_old_secret_still_verifies() -> None:
    body = fixture("github", "issues__opened.json")
    req = github_request(body, "issues", OLD_SECRET)
    delivery = await GITHUB.verify(req, secrets(SECRET, OLD_SECRET))
    assert delivery.event_type == "issues.opened"
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await GITHUB.verify(req, secrets(SECRET))


async def test_form_encoded_hook() -> None:
    body = b"payload=" + quote(fixture("github", "issues__opened.json"), safe="").encode()
    req = github_request(body, "issues", **{"Content-Type": "application/x-www-form-urlencoded"})
    delivery = await GITHUB.verify(req, secrets(SECRET))
    assert delivery.event_type == "issues.opened"
    event = GITHUB.normalize(body, req.headers)
    assert event.subject == "Codertocat/Hello-World#1"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h, b: (h, b + b" "), "signature mismatch"),
        (lambda h, b: ({**h, "x-hub-signature-256": "sha256=" + "0" * 64}, b), "mismatch"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "x-hub-signature-256"}, b), "missing"),
        (lambda h, b: ({**h, "x-hub-signature-256": "sha1=abc"}, b), "malformed"),
        (lambda h, b: ({**h, "x-hub-signature-256": "sha256=zz"}, b), "malformed"),
        (lambda h, b: ({**h, "x-hub-signature-256": "sha256=é" * 3}, b), "malformed"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "x-github-delivery"}, b), "missing"),
    ],
)
async def test_rejections(mutate, reason: str) -> None:
    base = github_request(fixture("github", "issues__opened.json"), "issues")
    headers, body = mutate(dict(base.headers), base.body)
    with pytest.raises(WebhookVerificationError, match=reason) as info:
        await GITHUB.verify(request(body, headers), secrets(SECRET))
    assert SECRET not in info.value.reason


async def test_wrong_secret_and_no_secret() -> None:
    req = github_request(fixture("github", "push__new_branch.json"), "push")
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await GITHUB.verify(req, secrets("another-secret"))
    with pytest.raises(WebhookVerificationError, match="no signing secret"):
        await GITHUB.verify(req, secrets())


def test_normalize_issues() -> None:
    headers = {"x-github-event": "issues"}
    event = GITHUB.normalize(fixture("github", "issues__opened.json"), headers)
    assert event.type == "issues.opened"
    assert event.subject == "Codertocat/Hello-World#1"
    assert event.time is not None and event.time.year == 2019
    assert event.data == {
        "action": "opened",
        "repository": "Codertocat/Hello-World",
        "number": 1,
        "title": "Spelling error in the README file",
        "state": "open",
        "url": "https://github.com/Codertocat/Hello-World/issues/1",
        "sender": "Codertocat",
    }


def test_normalize_pull_request() -> None:
    event = GITHUB.normalize(
        fixture("github", "pull_request__opened.json"), {"x-github-event": "pull_request"}
    )
    assert event.type == "pull_request.opened"
    assert event.subject == "Codertocat/Hello-World#2"
    assert event.data["head_ref"] == "changes" and event.data["base_ref"] == "master"
    assert event.data["merged"] is False


def test_normalize_push() -> None:
    event = GITHUB.normalize(fixture("github", "push__new_branch.json"), {"x-github-event": "push"})
    assert event.type == "push"
    assert event.subject == "Codertocat/Hello-World@refs/heads/master"
    assert event.data["commit_count"] == 1
    assert event.data["head_message"] == "Initial commit"


def test_normalize_ping_and_unknown() -> None:
    ping = GITHUB.normalize(fixture("github", "ping__hook.json"), {"x-github-event": "ping"})
    assert ping.type == "ping" and ping.data["hook_id"] == 109948940
    star = GITHUB.normalize(
        b'{"action":"created","starred_at":null,"x":{"y":1}}', {"x-github-event": "star"}
    )
    assert star.type == "star.created"
    assert star.data == {"action": "created", "starred_at": None}
    with pytest.raises(ValueError):
        GITHUB.normalize(b"{not json", {"x-github-event": "push"})
