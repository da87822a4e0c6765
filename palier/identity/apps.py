from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    """How people sign in: passwords and their reset, a second factor, single sign-on (OpenID
    Connect, SAML) and the directory (LDAP / Active Directory), and the sessions they hold."""

    name = "palier.identity"
    label = "identity"
    verbose_name = _("Sign-in and identity")
