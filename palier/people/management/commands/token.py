"""``palier token create EMAIL [--scope read|write|tokens] [--days N]`` and ``palier token revoke PREFIX``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from palier.people import services
from palier.people.models import ApiToken, User


class Command(BaseCommand):
    help = "Create or revoke personal API tokens. 'create' prints the token on its last line."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token for a user.")
        create.add_argument("email")
        create.add_argument("--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.READ)
        create.add_argument("--name", default="cli")
        create.add_argument(
            "--days",
            type=int,
            default=None,
            help="Days before it expires (default: PALIER_TOKEN_DAYS; 0 there: never).",
        )
        revoke = sub.add_parser("revoke", help="Revoke a token by its prefix (the first 12 characters).")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            user = User.objects.filter(email__iexact=options["email"]).first()
            if user is None:
                raise CommandError(f"No user with the email address {options['email']!r}.")
            try:
                issued = services.create_api_token(
                    user, scope=options["scope"], name=options["name"], by=None, days=options["days"]
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            expiry = f"expires {issued.token.expires_at:%Y-%m-%d %H:%M} UTC" if issued.token.expires_at else "no expiry"
            self.stderr.write(f"Token for {user.email} ({issued.token.scope}, {expiry}); it is shown only once:")
            self.stdout.write(issued.secret)
            return
        tokens = ApiToken.objects.filter(prefix=options["prefix"], revoked_at__isnull=True)
        if not tokens.exists():
            raise CommandError("No active token with this prefix.")
        for token in tokens:
            services.revoke_api_token(token, by=None)
        self.stdout.write("Revoked.")
