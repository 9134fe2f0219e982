# Which approvals are valid (SPEC §2): an approved decision that is not stale and has no
# error-level violation on itself, its request or the cameras they name. Only a valid approval
# grants anything (authorize, serve, storage grants, extract, notices); the Python enforcer
# checks the same independently (cctv_policy/registry/approvals.py) and needs both to agree.
package cctv.approvals

import rego.v1

import data.cctv.check
import data.cctv.lib

valid contains id if {
	some id, d in input.decisions
	d.decision == "approved"
	input.requests[id]
	not lib.stale(id)
	not has_error(id)
}

# Decisions in force: those that change what is protected. A decision on an existing request
# that pins its current content and has no error-level violation of its own (decided outside
# the security office, before the request was submitted, in the future, a rejection without
# reasons, ...). Any other decision leaves its request pending: the footage stays protected
# (enforce.rego; the Python floor reads the same in registry/approvals.py).
in_force contains id if {
	some id, _ in input.decisions
	input.requests[id]
	not lib.stale(id)
	not ["decision", id] in error_subjects
}

# What each valid approval grants, its times also in ns: computed once per registry, and loaded
# with it as data.cctv_registry.approved_scopes for the authz policy, so that one decision
# reads one small object instead of narrowing the request by its decision again.
approved_scopes[id] := scope_of(id) if some id in valid

scope_of(id) := {
	"cameras": lib.effective_cameras(id),
	"from": from,
	"to": to,
	"starts": starts,
	"ends": ends,
	"from_ns": time.parse_rfc3339_ns(from),
	"to_ns": time.parse_rfc3339_ns(to),
	"starts_ns": time.parse_rfc3339_ns(starts),
	"ends_ns": time.parse_rfc3339_ns(ends),
} if {
	from := lib.effective_from(id)
	to := lib.effective_to(id)
	starts := lib.effective_starts(id)
	ends := lib.effective_ends(id)
}

# Why each approved decision is not valid: {request id: [codes]} for notices and refusals.
invalid_reasons[id] contains code if {
	some id, d in input.decisions
	d.decision == "approved"
	some v in error_violations
	concerns(v, id)
	code := v.code
}

error_violations contains v if {
	some v in check.violations
	v.severity == "error"
}

error_subjects contains [v.kind, v.id] if some v in error_violations

has_error(id) if ["decision", id] in error_subjects

has_error(id) if ["request", id] in error_subjects

has_error(id) if {
	some camera in named_cameras(id)
	["camera", camera] in error_subjects
}

concerns(v, id) if {
	v.kind in {"decision", "request"}
	v.id == id
}

concerns(v, id) if {
	v.kind == "camera"
	v.id in named_cameras(id)
}

named_cameras(id) := {c | some c in input.requests[id].footage.cameras} | {c | some c in lib.effective_cameras(id)}
