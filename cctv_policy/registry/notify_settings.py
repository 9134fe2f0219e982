"""config.yaml `notifications:` (#28): who is told what is due, and how. No secrets here: the
SMTP credentials, webhook URLs (they carry the robot's key) and signing secrets are named by
environment variable and read from the environment of the machine that runs `notify`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cctv_policy.registry.types import NonEmptyText, PersonId, Slug

EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")]
EmailAddress = Annotated[str, StringConstraints(pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")]
# Who a notice is for: the applicant it concerns, or everyone with a role (admin: the people
# `admins` names, else the security office).
Audience = Literal["applicant", "security_office", "technician", "admin"]


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class EmailSettings(_Settings):
    host: NonEmptyText
    port: int = Field(587, ge=1, le=65535)
    # starttls: plain connection upgraded with STARTTLS (port 587); ssl: TLS from the start
    # (port 465); none: only for a relay on the same machine or in tests.
    security: Literal["starttls", "ssl", "none"] = "starttls"
    sender: EmailAddress
    username_env: EnvName | None = None
    password_env: EnvName | None = None
    timeout_seconds: int = Field(30, ge=1, le=600)


class WebhookSettings(_Settings):
    id: Slug
    # wecom: WeCom group robot; dingtalk: DingTalk custom robot; json: a generic receiver.
    kind: Literal["wecom", "dingtalk", "json"]
    url_env: EnvName
    secret_env: EnvName | None = None  # DingTalk's signing secret (加签), when set
    audiences: list[Audience] = Field(min_length=1)
    timeout_seconds: int = Field(15, ge=1, le=600)


class NotificationSettings(_Settings):
    # A request waiting for the security office longer than this is brought to its notice (R5).
    pending_after_hours: int = Field(24, ge=1, le=24 * 30)
    admins: list[PersonId] = Field(default_factory=list)
    email: EmailSettings | None = None
    webhooks: list[WebhookSettings] = Field(default_factory=list)
