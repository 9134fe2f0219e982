"""Pydantic models of every registry document (spec section 2).

Unknown fields are errors (a typo in `recipents` must not silently widen nothing or everything).
Timestamps are normalised to UTC at the edge; the campus time zone is for display only.
"""

from __future__ import annotations

from enum import Enum
from pathlib import PurePosixPath
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from cctv_policy.registry.notify_settings import EmailAddress, NotificationSettings
from cctv_policy.registry.types import (
    DocumentId,
    GitHubLogin,
    NonEmptyText,
    PersonId,
    Sha256Hex,
    Slug,
    SshPublicKey,
    TargetId,
    Timestamp,
)
from storage_backends.layout import Layout


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, str_strip_whitespace=True)


class Role(str, Enum):  # noqa: UP042 - str() and f-strings keep the Enum's own form
    applicant = "applicant"
    security_office = "security_office"
    technician = "technician"
    supervisor = "supervisor"
    auditor = "auditor"


class ProvenanceSettings(Strict):
    # apply, plan, serve, authorize, bundle and extract act only on a registry whose decisions
    # and holds git history shows were written by the person they name (check
    # --verify-provenance), and refuse a registry that is not a git checkout. false: only for a
    # registry without a trustworthy history (the bundled example); it is then not verified.
    required: bool = True


class SeparationOfDuties(Strict):
    # Who filed a request (submitted_by, else the applicant), who approved it and who
    # supervises its extraction: at least this many different people among them (2 allows
    # one person two of the duties, never all three). DECISION_DUTIES_NOT_SEPARATED.
    distinct_people: int = Field(3, ge=2, le=3)


class Config(Strict):
    retention_days: int = Field(30, ge=1, le=3650)
    report_due_days: int = Field(7, ge=0, le=365)
    max_use_days: int = Field(30, ge=1, le=365)
    # Days after the report due date during which an approved request still protects footage.
    report_grace_days: int = Field(7, ge=0, le=365)
    allowed_purposes: list[Slug] = Field(min_length=1)
    private_zones: list[Slug] = Field(default_factory=list)
    timezone: str = "UTC"
    # The language of check messages (zh or en); --lang and CCTV_POLICY_LANG/LANG also choose.
    language: Literal["zh", "en"] | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "time_zone",
                "{value} is not a time zone name like Asia/Shanghai",
                {"value": repr(value)},
            ) from None
        return value

    # Provenance (check --verify-provenance): decisions and holds must be in commits signed by
    # one of the named person's signing_keys; unsigned or another signer is an error.
    require_signed_commits: bool = False
    # Whether the commands that act on approvals verify provenance first (on by default).
    provenance: ProvenanceSettings = Field(default_factory=ProvenanceSettings)
    # Committer identities besides the named person that may commit a decision or hold (e.g.
    # a bot that merges); empty by default: the person commits their own decision.
    trusted_committers: list[str] = Field(default_factory=list)
    # REQUEST_BACKDATED: submitted_at more than this earlier than the commit that added it.
    backdating_tolerance_hours: int = Field(24, ge=0, le=24 * 30)
    # Who receives storage grants: the security office's viewing station, where recipients
    # view approved footage under supervision. No grant ever goes to a recipient directly:
    # copies leave only through a supervised `extract`.
    viewing_station: PersonId = "viewing-station"
    # The CODEOWNERS owners that are the security office (e.g. "@school/security-office");
    # check --verify-provenance warns when a trust root has any other owner or none.
    security_office_owners: list[str] = Field(default_factory=list)
    # Clock sanity gate (apply): how far the clock may be from the newest footage on a target.
    clock_tolerance_hours: int = Field(6, ge=1, le=24 * 30)
    # Device health (R12): a camera with no footage newer than this is CAMERA_SILENT.
    silent_after_hours: int = Field(24, ge=1, le=24 * 365)
    # Maintenance (R2): a camera not serviced within this many days is overdue.
    maintenance_interval_days: int = Field(180, ge=1, le=3650)
    # When this revision of the rule book takes effect (R13: published before it applies);
    # a changed config must name a moment that is not already past.
    effective_from: Timestamp | None = None
    # Violations register (R12): a detected violation must be registered within this many days.
    register_within_days: int = Field(7, ge=0, le=365)
    # Unit feedback (R12): periods this many months long from January; due this many days after.
    feedback_every_months: Literal[1, 2, 3, 4, 6, 12] = 3
    feedback_due_days: int = Field(14, ge=0, le=365)
    # Attachments (R4): purposes whose requests must attach proof; requests filed from this
    # moment on must have every attachment they name in attachments/<REQ-ID>/.
    proof_required_for: list[Slug] = Field(default_factory=list)
    attachments_required_from: Timestamp | None = None
    separation_of_duties: SeparationOfDuties = Field(default_factory=SeparationOfDuties)
    # extract: the supervisor confirms with their own key (--supervisor-key, one of their
    # signing_keys in people.yaml), countersigning the manifest; without it, refused. A typed
    # --supervisor name alone is no confirmation: only a registry whose supervisors have no keys
    # yet (the bundled example) turns this off.
    require_supervisor_signature: bool = True
    # Notifications (#28): who `notify` tells what is due, and by which channels.
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)


class Person(Strict):
    id: PersonId
    name: NonEmptyText
    unit: Slug
    roles: list[Role] = Field(min_length=1)
    git_identities: list[str] = Field(default_factory=list)
    # SSH public keys ("ssh-ed25519 AAAA... comment") that sign this person's commits.
    signing_keys: list[SshPublicKey] = Field(default_factory=list)
    # GitHub login: a request from the issue form is this person's only if they filed it.
    github: GitHubLogin | None = None
    email: EmailAddress | None = None  # where `notify` writes to this person (#28)


class PeopleFile(Strict):
    people: list[Person]


# A recorder's name for a camera: up to four path parts (MediaMTX paths may have folders).
_RECORDER_PART = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"
RecorderName = Annotated[
    str, StringConstraints(pattern=rf"^{_RECORDER_PART}(/{_RECORDER_PART}){{0,3}}$")
]


class Camera(Strict):
    id: DocumentId
    name: NonEmptyText
    location: NonEmptyText
    zone: Slug
    installed_by: PersonId
    installed_on: Timestamp
    storage: TargetId
    # The recorder's own name for this camera (a Frigate camera, a MediaMTX path), where it is
    # not the id: the viewing point maps the names in recorder URLs to cameras through it.
    recorder_name: RecorderName | None = None


class CamerasFile(Strict):
    cameras: list[Camera]


# The paths a target's footage is watched under, behind a reverse proxy (the viewing point).
UrlScheme = Literal["frigate", "mediamtx-playback", "files"]
UrlPrefix = Annotated[str, StringConstraints(pattern=r"^/([A-Za-z0-9_-]+/)*$")]
DEFAULT_LAYOUT = "{camera}/{start:%Y/%m/%d}/{start:%Y%m%dT%H%M%SZ}_{seconds}s.mp4"


class StorageTarget(Strict):
    id: TargetId
    kind: Literal["filesystem", "s3"]
    description: str = ""
    # False for a target that is listed for the record but must not hold footage (rule R7).
    approved: bool = True
    root: str | None = None
    bucket: str | None = None
    prefix: str = ""
    endpoint: str | None = None
    region: str | None = None
    layout: str = DEFAULT_LAYOUT
    # The zone a layout's local times are in (NVRs that name files in local time); a layout
    # whose times end in a literal Z is UTC and takes no timezone.
    timezone: str | None = None
    # S3 only: how boto3 addresses the bucket (path style suits MinIO/Ceph on one host name).
    addressing_style: Literal["path", "virtual", "auto"] = "path"
    # S3 only: the bucket-policy principal of a person (grants); {person} is the person id.
    principal_template: str = "arn:aws:iam:::user/{person}"
    # S3 only: also push retention down to the bucket's own lifecycle engine.
    lifecycle_offload: bool = False
    # How the viewing point (GET /v1/forward-auth) reads this target's URLs: a Frigate or
    # MediaMTX playback server, or the footage tree served as static files; url_prefix is the
    # path they sit under at the proxy (default: /recordings/ for files, / otherwise).
    url_scheme: UrlScheme | None = None
    url_prefix: UrlPrefix | None = None

    @model_validator(mode="after")
    def _location_matches_kind(self) -> StorageTarget:
        if self.kind == "filesystem" and not self.root:
            raise ValueError("a filesystem target needs `root`")
        if self.kind == "s3" and not self.bucket:
            raise ValueError("an s3 target needs `bucket`")
        if self.kind == "filesystem" and self.bucket:
            raise ValueError("a filesystem target takes `root`, not `bucket`")
        if self.kind == "s3" and self.root:
            raise ValueError("an s3 target takes `bucket` and `prefix`, not `root`")
        self.parsed_layout()
        return self

    def parsed_layout(self) -> Layout:
        """The target's layout (raises LayoutError, a ValueError, when it is unusable)."""
        return Layout(self.layout, self.timezone)


class StorageFile(Strict):
    targets: list[StorageTarget]

    @model_validator(mode="after")
    def _roots_do_not_nest(self) -> StorageFile:
        """One folder per target: a root inside another would put packages among footage (or
        footage among packages) and every entry would belong to two targets."""
        roots = [
            (t.id, PurePosixPath(t.root)) for t in self.targets if t.kind == "filesystem" and t.root
        ]
        for i, (first, a) in enumerate(roots):
            for second, b in roots[i + 1 :]:
                if a == b or a in b.parents or b in a.parents:
                    raise ValueError(
                        f"targets {first} ({a}) and {second} ({b}) overlap: each "
                        "target needs a folder of its own, neither inside the other"
                    )
        return self


class Purpose(Strict):
    category: Slug
    description: NonEmptyText


class FootageWindow(Strict):
    cameras: list[DocumentId] = Field(min_length=1)
    from_: Timestamp = Field(alias="from")
    to: Timestamp

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ThirdParty(Strict):
    organization: NonEmptyText
    legal_basis: str = ""
    case_number: str = ""


class UseMode(str, Enum):  # noqa: UP042 - str() and f-strings keep the Enum's own form
    view_supervised = "view_supervised"
    export_copy = "export_copy"
    share_external = "share_external"


class Use(Strict):
    mode: UseMode
    recipients: list[PersonId] = Field(min_length=1)
    starts: Timestamp
    ends: Timestamp
    third_party: ThirdParty | None = None


class Attachment(Strict):
    name: NonEmptyText
    sha256: Sha256Hex


class Request(Strict):
    id: DocumentId
    applicant: PersonId
    # Who wrote and filed the request, when not the applicant (an officer filing for a
    # teacher); with --verify-provenance the request's commit must be theirs.
    submitted_by: PersonId | None = None
    unit: Slug
    submitted_at: Timestamp
    purpose: Purpose
    footage: FootageWindow
    use: Use
    attachments: list[Attachment] = Field(default_factory=list)


class DecisionScope(Strict):
    cameras: list[DocumentId] | None = None
    from_: Timestamp | None = Field(None, alias="from")
    to: Timestamp | None = None
    starts: Timestamp | None = None
    ends: Timestamp | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# `scope: as_requested` says in so many words that a decision grants exactly what was asked.
AS_REQUESTED = "as_requested"


def _scope_as_requested(value: object) -> object:
    return {} if value == AS_REQUESTED else value


# A decision must say what it grants: `scope: as_requested` (or `{}`), or the narrowing. A file
# without `scope:` (cut short while being written) is E_SCHEMA and decides nothing, rather than
# approving everything the request asked for.
RequiredScope = Annotated[
    DecisionScope,
    BeforeValidator(
        _scope_as_requested,
        json_schema_input_type=DecisionScope | Literal["as_requested"],
    ),
]


class DecisionConditions(Strict):
    supervised_by: PersonId | None = None
    third_party_allowed: bool = False
    watermark: bool = False
    notes: str = ""


class Decision(Strict):
    request: DocumentId
    # SHA-256 of the request's canonical JSON when it was decided (see registry/canonical.py);
    # a request whose content changed since is DECISION_STALE.
    request_sha256: Sha256Hex | None = None
    decision: Literal["approved", "rejected"]
    decided_by: PersonId
    decided_at: Timestamp
    reasons: list[str] = Field(default_factory=list)
    conditions: DecisionConditions = Field(default_factory=DecisionConditions)
    scope: RequiredScope


class Report(Strict):
    request: DocumentId
    submitted_by: PersonId
    submitted_at: Timestamp
    summary: NonEmptyText
    copies: Literal["destroyed", "kept_under_hold"]
    hold: DocumentId | None = None

    @model_validator(mode="after")
    def _kept_copies_name_a_hold(self) -> Report:
        if self.copies == "kept_under_hold" and not self.hold:
            raise PydanticCustomError(
                "kept_copies_need_hold",
                "copies kept_under_hold must name the `hold` that keeps them",
            )
        return self


class Hold(Strict):
    id: DocumentId
    created_by: PersonId
    created_at: Timestamp
    cameras: list[DocumentId] = Field(min_length=1)
    from_: Timestamp = Field(alias="from")
    to: Timestamp
    until: Timestamp
    reason: NonEmptyText

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Maintenance(Strict):
    """One service of a camera by a technician (R2): maintenance/<ID>.yaml."""

    id: DocumentId
    camera: DocumentId
    performed_by: PersonId
    performed_at: Timestamp
    work: NonEmptyText


class ViolationRecord(Strict):
    """One entry of the violations register (R12): violations/<ID>.yaml, kept by the security
    office: what rule, who, found by whom and when, what was done, when it was closed."""

    id: DocumentId
    rule: Annotated[str, StringConstraints(pattern=r"^R[0-9]{1,2}$")]
    # The detected violation it handles, when `check` found it: code and kind:id subject.
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")] | None = None
    subject: Annotated[str, StringConstraints(pattern=r"^[a-z]+:[A-Za-z0-9._-]+$")] | None = None
    person: PersonId | None = None  # who broke the rule, when known
    found_by: PersonId
    found_at: Timestamp
    description: NonEmptyText
    action: NonEmptyText | None = None
    closed_at: Timestamp | None = None


class Feedback(Strict):
    """A unit's report on its use of footage in one period (R12): feedback/<ID>.yaml. The
    period is named by its first month, e.g. 2026-07 for July to September."""

    id: DocumentId
    unit: Slug
    period: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    submitted_by: PersonId
    submitted_at: Timestamp
    summary: NonEmptyText
    suggestions: list[NonEmptyText] = Field(default_factory=list)


# --- waivers (#28) ---
class Waiver(Strict):
    """A known warning acknowledged by the security office until a date: waivers/<ID>.yaml."""

    id: DocumentId
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")]
    subject: Annotated[str, StringConstraints(pattern=r"^[a-z]+:[A-Za-z0-9._-]+$")]
    reason: NonEmptyText
    until: Timestamp
    decided_by: PersonId
    decided_at: Timestamp
