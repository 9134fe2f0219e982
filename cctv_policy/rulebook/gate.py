"""The one enforcement gate: nothing acts on a registry that cannot be read as written, nor on
approvals whose writer git history cannot show.

Every command that changes storage or hands out footage (apply, extract, authorize, serve; and
bundle, which hands the registry to the OPA fleet) passes here first. Input errors are the
loader's (E_YAML, E_SCHEMA, E_DUPLICATE_ID) and the policies' (E_REFERENCE: a hold naming an
unknown camera would otherwise protect nothing). Provenance is `check --verify-provenance`
with the registry's own HEAD as the trust base, unless config.yaml says
`provenance: {required: false}`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cctv_policy.provenance.check import ProvenanceUnavailable, check_provenance
from cctv_policy.violations import Severity, Violation

if TYPE_CHECKING:
    from cctv_policy.registry.loader import LoadedRegistry
    from cctv_policy.rulebook.evaluation import Evaluation

OPT_OUT = "provenance: {required: false}"


class RegistryNotEnforceable(Exception):
    """The registry has input errors; the message names the first and says what to do."""

    def __init__(self, errors: list[Violation]) -> None:
        self.errors = errors
        first = errors[0]
        where = f"{first.file}:{first.line}" if first.line else first.file
        super().__init__(
            f"the registry has {len(errors)} input error(s) (first: {where} {first.code}: "
            f"{first.message}); nothing acts on a registry that cannot be read as written: run "
            "`cctv-policy check` and fix them"
        )


class ProvenanceNotVerified(RegistryNotEnforceable):
    """Provenance is required and history does not show each approval's writer (exit 1)."""

    def __init__(self, errors: list[Violation]) -> None:
        self.errors = errors
        first = errors[0]
        where = f"{first.file}:{first.line}" if first.line else first.file
        Exception.__init__(
            self,
            f"provenance: {len(errors)} problem(s) with who wrote the registry's approvals "
            f"(first: {where} {first.code}: {first.message}); nothing acts on an approval "
            "its named person did not provably write: run `cctv-policy check "
            "--verify-provenance` and have the named person commit (and sign) it\n"
            f"来源核验未通过：{len(errors)} 个问题（第一个：{where} {first.code}），无法证明决定或"
            "保全令由其署名人提交（并签名），不据此执行任何操作：运行 `cctv-policy check "
            "--verify-provenance`，由署名人本人提交（并签名）",
        )


class ProvenanceUnverifiable(RegistryNotEnforceable):
    """Provenance is required and cannot be read: no git history, or git failed (exit 2)."""

    def __init__(self, reason: str) -> None:
        self.errors = []
        Exception.__init__(
            self,
            f"provenance cannot be verified: {reason}; nothing acts on approvals whose writer "
            "cannot be checked: run on a git checkout of the registry with its history, or, "
            f"for a registry without a trustworthy history, write `{OPT_OUT}` in config.yaml\n"
            "无法核验来源：登记册不是带完整历史的 git 检出（或 git 出错），无法确认决定和保全令由谁"
            "提交，不据此执行任何操作：请在登记册的 git 检出（含历史）上运行；没有可信历史的登记册"
            f"可在 config.yaml 中写 `{OPT_OUT}`",
        )


def require_enforceable(
    evaluation: Evaluation, also: tuple[str, ...] = (), one_query: bool = False
) -> None:
    """Raise RegistryNotEnforceable unless the registry reads clean (loader and policies) and
    its approvals' provenance holds (ProvenanceNotVerified, ProvenanceUnverifiable).
    `also`: entrypoints the command asks next, evaluated with the rule book (one query; see
    Evaluation.evaluate_with_check for `one_query`)."""
    evaluation.evaluate_with_check(*also, one_query=one_query)
    errors = evaluation.input_errors()
    if errors:
        raise RegistryNotEnforceable(errors)
    require_provenance(evaluation)


def require_provenance(evaluation: Evaluation) -> None:
    """The provenance gate of the commands that act on approvals: the errors of `check
    --verify-provenance` (trust base: the registry's HEAD), and an uncommitted decision, hold
    or request (its writer is unknown), refuse; config.yaml `provenance.required: false` skips
    it."""
    registry: LoadedRegistry = evaluation.registry
    if registry.config is None or not registry.config.provenance.required:
        return
    try:
        found = check_provenance(registry, "HEAD", evaluation.now, honour_opt_out=False)
    except ProvenanceUnavailable as exc:
        raise ProvenanceUnverifiable(str(exc)) from exc
    refusing = [
        v for v in found if v.severity is Severity.error or v.code == "PROVENANCE_UNCOMMITTED"
    ]
    if refusing:
        raise ProvenanceNotVerified(refusing)
