"""Test mode: simulated webhooks and runtime provider faults (issue 14)."""
