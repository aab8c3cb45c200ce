"""Default field mappings for Jira (data only; see backend/mappings/defaults.py).

Event rules read the webhook JSON (`issue` is the REST issue); stream rules read REST objects.
"""

_WHEN = [{"op": "parse_datetime", "format": "iso8601"}]


def _issue(prefix: str) -> list[dict[str, object]]:
    fields = f"{prefix}fields."
    return [
        {"target": "key", "source": f"{prefix}key"},
        {"target": "summary", "source": f"{fields}summary"},
        {"target": "status", "source": f"{fields}status.name"},
        {"target": "type", "source": f"{fields}issuetype.name"},
        {"target": "priority", "source": f"{fields}priority.name"},
        {"target": "project", "source": f"{fields}project.key"},
        {"target": "reporter", "source": f"{fields}reporter.displayName"},
        {"target": "assignee", "source": f"{fields}assignee.displayName"},
        {"target": "created_at", "source": f"{fields}created", "transforms": _WHEN},
        {"target": "updated_at", "source": f"{fields}updated", "transforms": _WHEN},
    ]


MAPPINGS = {
    "jira:issue_created": _issue("issue."),
    "jira:issue_updated": _issue("issue."),
    "comment_created": [
        {"target": "issue", "source": "issue.key"},
        {"target": "author", "source": "comment.author.displayName"},
        {"target": "body", "source": "comment.body"},
        {"target": "created_at", "source": "comment.created", "transforms": _WHEN},
    ],
    "issues": _issue(""),
    "projects": [
        {"target": "key", "source": "key"},
        {"target": "name", "source": "name"},
    ],
    "users": [
        {"target": "account_id", "source": "accountId"},
        {"target": "name", "source": "displayName"},
        {"target": "active", "source": "active"},
    ],
}
