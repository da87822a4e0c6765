"""OpenID Connect single sign-on, one module per step (docs/identity.md, "OpenID Connect"):

- ``options``: the provider's settings (``Provider.config``), ``clean_config``, claim mapping;
- ``discovery``: metadata and signing keys, fetched and cached;
- ``flow``: sign-in (authorization code with PKCE), ID token checks, sign-out at the provider;
- ``checks``: "test this provider";
- ``manage``: the admin pages' reads and writes.

The kind's interface (``identity.kinds``) is ``clean_config`` and ``test_provider``."""

from palier.identity.oidc.checks import test_provider
from palier.identity.oidc.options import clean_config

__all__ = ["clean_config", "test_provider"]
