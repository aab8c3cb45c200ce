"""Default field mappings for GitHub (data only; see backend/mappings/defaults.py).

Event rules read the delivery's JSON as GitHub sends it; stream rules read REST objects.
"""

_WHEN = [{"op": "parse_datetime", "format": "iso8601"}]


def _item(prefix: str) -> list[dict[str, object]]:
    return [
        {"target": "title", "source": f"{prefix}title"},
        {"target": "state", "source": f"{prefix}state"},
        {"target": "author", "source": f"{prefix}user.login"},
        {"target": "url", "source": f"{prefix}html_url"},
        {"target": "created_at", "source": f"{prefix}created_at", "transforms": _WHEN},
        {"target": "number", "source": f"{prefix}number"},
    ]


_ISSUE = [
    *_item("issue."),
    {"target": "repository", "source": "repository.full_name"},
    {"target": "labels", "source": "issue.labels[*].name"},
]
_PULL_REQUEST = [
    *_item("pull_request."),
    {"target": "repository", "source": "repository.full_name"},
    {"target": "merged", "source": "pull_request.merged", "default": False},
    {"target": "head", "source": "pull_request.head.ref"},
    {"target": "base", "source": "pull_request.base.ref"},
]
_ACTIONS = ("opened", "edited", "closed", "reopened", "assigned", "labeled")

MAPPINGS = {
    **{f"issues.{action}": _ISSUE for action in _ACTIONS},
    **{f"pull_request.{action}": _PULL_REQUEST for action in (*_ACTIONS, "synchronize")},
    "push": [
        {"target": "repository", "source": "repository.full_name"},
        {
            "target": "branch",
            "source": "ref",
            "transforms": [{"op": "regex_extract", "pattern": "^refs/heads/(.+)$"}],
        },
        {"target": "head_commit", "source": "head_commit.id"},
        {"target": "message", "source": "head_commit.message"},
        {"target": "pusher", "source": "pusher.name"},
        {"target": "commit_count", "source": "length(commits)"},
    ],
    "issues": _item(""),
    "pull_requests": _item(""),
    "repositories": [
        {"target": "name", "source": "full_name"},
        {"target": "private", "source": "private"},
        {"target": "url", "source": "html_url"},
        {"target": "default_branch", "source": "default_branch"},
    ],
}
