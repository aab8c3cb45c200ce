"""A local OAuth 2.0 authorization server (authlib, Flask) for end-to-end OAuth tests."""

from oauth_server.server import CLOUD_ID, AuthServer

__all__ = ["CLOUD_ID", "AuthServer"]
