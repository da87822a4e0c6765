"""People: users (email login), organisations, departments, support groups and API tokens."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palier.lib import text


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    email_domain = models.CharField(_("email domain"), max_length=200, blank=True)
    share_tickets = models.BooleanField(
        _("members see each other's tickets"),
        default=False,
        help_text=_("When set, every requester of the organisation sees its tickets."),
    )
    password_sign_in = models.BooleanField(
        _("members may sign in with a password"),
        default=True,
        help_text=_("Switch off once the organisation signs in through single sign-on."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="department_unique_name")]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("role", User.Role.ADMIN)
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username or "")

    # bulk writes skip save(): keep ``search_text`` current on these paths too
    # (``QuerySet.update(full_name=…)`` / ``update(email=…)`` would not: use save() for those)

    def bulk_create(self, objs: Iterable[User], *args: Any, **kwargs: Any) -> list[User]:
        rows = list(objs)
        for row in rows:
            row.search_text = text.search_text(row.full_name, row.email)
        return super().bulk_create(rows, *args, **kwargs)

    def bulk_update(self, objs: Iterable[User], fields: Iterable[str], batch_size: int | None = None) -> int:
        rows, names = list(objs), list(fields)
        if SEARCHED_FIELDS & set(names) and "search_text" not in names:
            for row in rows:
                row.search_text = text.search_text(row.full_name, row.email)
            names.append("search_text")
        return super().bulk_update(rows, names, batch_size=batch_size)


SEARCHED_FIELDS = frozenset({"full_name", "email"})


class User(AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        REQUESTER = "requester", _("Requester")
        AGENT = "agent", _("Agent")
        MANAGER = "manager", _("Manager")
        ADMIN = "admin", _("Administrator")

    class Language(models.TextChoices):
        FRENCH = "fr", _("French")
        ENGLISH = "en", _("English")

    class Density(models.TextChoices):
        COMPACT = "compact", _("Compact")
        COMFORTABLE = "comfortable", _("Comfortable")

    email = models.EmailField(_("email address"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.REQUESTER)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    # how tall the rows of the agent queue are (the person's choice, kept across devices)
    queue_density = models.CharField(
        _("queue density"), max_length=12, choices=Density.choices, default=Density.COMPACT
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    is_active = models.BooleanField(_("active"), default=True)
    manager = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        verbose_name=_("manager"),
        help_text=_("Receives escalations above this person's groups, and approves their requests."),
    )
    is_staff = models.BooleanField(_("can open the Django admin"), default=False)
    # an account Palier itself acts as (email intake, automation rules): cannot sign in, hidden
    # from people lists and never assigned or notified
    is_system = models.BooleanField(_("system account"), default=False, editable=False)
    # automatic assignment (palier.routing): who may receive new tickets, and how many
    is_available = models.BooleanField(
        _("available for new tickets"),
        default=True,
        help_text=_("When off, automatic assignment skips this agent."),
    )
    max_open_tickets = models.PositiveIntegerField(
        _("maximum open tickets"),
        null=True,
        blank=True,
        help_text=_("Automatic assignment stops at this many open tickets (empty: no limit)."),
    )
    working_hours = models.JSONField(
        _("working hours"),
        default=list,
        blank=True,
        help_text=_('Seven lists (Monday first) of ["HH:MM", "HH:MM"] intervals; empty: always.'),
    )
    work_time_zone = models.CharField(_("working time zone"), max_length=64, blank=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # normalised name and email (``lib.text``) that people search matches; kept by save() and
    # by the manager's bulk_create/bulk_update. No index: ``%word%`` cannot use a B-tree.
    search_text = models.TextField(default="", blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["full_name", "email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [
            models.Index(Lower("full_name"), name="user_name_lower"),
            models.Index(fields=["role"], name="user_role"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = text.search_text(self.full_name, self.email)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and SEARCHED_FIELDS & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    @property
    def is_agent(self) -> bool:
        """Agents, managers and admins work tickets; requesters only ask."""
        return self.role in {self.Role.AGENT, self.Role.MANAGER, self.Role.ADMIN}

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN or self.is_superuser


class SupportGroup(models.Model):
    class Level(models.IntegerChoices):
        L1 = 1, "L1"
        L2 = 2, "L2"
        L3 = 3, "L3"
        L4 = 4, "L4"
        L5 = 5, "L5"

    name = models.CharField(_("name"), max_length=200, unique=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices, default=Level.L1)
    is_vendor = models.BooleanField(_("external vendor"), default=False)
    is_triage = models.BooleanField(
        _("triage queue"),
        default=False,
        help_text=_("New tickets without another group land here."),
    )
    email = models.EmailField(_("contact email"), blank=True)
    manager = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_groups")
    escalation_group = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("escalates to"),
        help_text=_("The group that receives this group's escalations (otherwise the next level's default group)."),
    )
    internal_target_minutes = models.PositiveIntegerField(
        _("internal target (business minutes)"),
        null=True,
        blank=True,
        help_text=_("How long a ticket may stay in this group before the group's own target is missed."),
    )
    # external vendors (L4/L5 groups)
    vendor_company = models.CharField(_("vendor company"), max_length=200, blank=True)
    vendor_contacts = models.TextField(_("vendor contact emails"), blank=True, help_text=_("One address per line."))
    # the vendor's replies by email (palier/mail/vendors.py, docs/email.md "Vendor replies")
    vendor_domains = models.TextField(
        _("vendor mail domains"), blank=True,
        help_text=_("One per line, for example vendor.com; sub-domains are not included."),
    )  # fmt: skip
    vendor_accept_domain = models.BooleanField(
        _("accept replies from any address at these domains"), default=False,
        help_text=_("Otherwise only the contact addresses above are accepted."),
    )  # fmt: skip
    vendor_reply_public = models.BooleanField(
        _("vendor replies are public replies"), default=False,
        help_text=_("Otherwise they are internal notes, which the requester does not see."),
    )  # fmt: skip
    vendor_reference_pattern = models.CharField(
        _("vendor reference pattern"), max_length=200, blank=True,
        help_text=_(
            "A regular expression with one group in parentheses around the vendor's reference, "
            "for example Case #(\\d+). Searched in the subject, then the first 4 KB of the body."
        ),
    )  # fmt: skip
    contract_reference = models.CharField(_("contract reference"), max_length=100, blank=True)
    contract_response_minutes = models.PositiveIntegerField(
        _("contract response target (business minutes)"), null=True, blank=True
    )
    contract_resolution_minutes = models.PositiveIntegerField(
        _("contract resolution target (business minutes)"), null=True, blank=True
    )

    class Strategy(models.TextChoices):
        MANUAL = "manual", _("Manual")
        ROUND_ROBIN = "round_robin", _("Round-robin")
        LEAST_LOADED = "least_loaded", _("Least loaded")
        SKILLS = "skills", _("By skill")

    assignment_strategy = models.CharField(
        _("assignment"), max_length=16, choices=Strategy.choices, default=Strategy.MANUAL
    )
    members = models.ManyToManyField(User, blank=True, related_name="support_groups", through="Membership")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["level", "name"]
        verbose_name = _("support group")
        verbose_name_plural = _("support groups")
        constraints = [
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=5), name="group_level_1_5"),
            models.UniqueConstraint(fields=["is_triage"], condition=models.Q(is_triage=True), name="one_triage_group"),
            models.CheckConstraint(condition=models.Q(is_vendor=False) | models.Q(level__gte=4), name="vendor_l4_l5"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (L{self.level})"

    @property
    def vendor_contact_set(self) -> frozenset[str]:
        return frozenset(line.strip().lower() for line in self.vendor_contacts.splitlines() if line.strip())

    @property
    def vendor_domain_set(self) -> frozenset[str]:
        return frozenset(line.strip().lower().lstrip("@") for line in self.vendor_domains.split() if line.strip())


class Membership(models.Model):
    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    joined_at = models.DateTimeField(default=timezone.now)
    last_assigned_at = models.DateTimeField(null=True, blank=True)  # round-robin turn

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="membership_unique")]
        indexes = [models.Index(fields=["user", "group"], name="membership_user_group")]


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        READ = "read", _("Read only")
        WRITE = "write", _("Read and write")
        TOKENS = "tokens", _("Read, write and create tokens")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(max_length=16, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    @property
    def can_write(self) -> bool:
        return self.scope in (self.Scope.WRITE, self.Scope.TOKENS)


class UserSession(models.Model):
    """One signed-in browser session of a person (``people/sessions.py`` keeps it): the person sees
    and ends theirs, an administrator ends them all, deactivating the person ends them at once."""

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        indexes = [models.Index(fields=["user", "last_seen_at"], name="usersession_user_seen")]

    def __str__(self) -> str:
        return f"{self.user} ({self.created_at:%Y-%m-%d %H:%M})"
