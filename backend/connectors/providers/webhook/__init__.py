"""Generic webhook (see spec.py)."""

#: Why the contract tests have no provider API description to check this connector against.
NO_API_DESCRIPTION = (
    "the generic webhook connector calls no provider API (it only receives deliveries), so "
    "there is no provider description to check it against"
)
