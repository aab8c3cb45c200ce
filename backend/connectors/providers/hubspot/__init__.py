"""HubSpot CRM (see spec.py)."""

#: Why the contract tests have no provider API description to check this connector against.
NO_API_DESCRIPTION = (
    "no description of HubSpot's API is vendored in ../shared/provider-apis; the simulator "
    "answers with the example bodies of HubSpot's reference pages instead (sources in "
    "tests/fixtures/hubspot/SOURCES.md)"
)
