# Decision rules: R5 (the security office reviews, in writing, with reasons), R6, R8 (scope).
package cctv.decisions

import rego.v1

import data.cctv.lib

violations contains lib.error("DECISION_UNKNOWN_REQUEST", "decision", id, ["request"], msg) if {
	some id, _ in input.decisions
	not input.requests[id]
	not lib.unreadable("request", id)
	msg := sprintf("decision for %s has no request file requests/%s.yaml", [id, id])
}

violations contains lib.error("DECISION_STALE", "decision", id, ["request_sha256"], msg) if {
	some id, d in input.decisions
	input.requests[id]
	not d.request_sha256
	msg := sprintf(
		"decision on %s does not pin the request it decides (no request_sha256); decide it again with `cctv-policy decide %s`",
		[id, id],
	)
}

violations contains lib.error("DECISION_STALE", "decision", id, ["request_sha256"], msg) if {
	some id, d in input.decisions
	input.requests[id]
	d.request_sha256
	d.request_sha256 != input.request_sha256[id]
	msg := sprintf(
		"request %s was changed after it was decided (the decision pins sha256 %s, the request is now %s); the decision no longer applies: the security office must decide again (`cctv-policy decide %s`)",
		[id, substring(d.request_sha256, 0, 12), substring(input.request_sha256[id], 0, 12), id],
	)
}

violations contains lib.error("DECISION_NOT_SECURITY_OFFICE", "decision", id, ["decided_by"], msg) if {
	some id, d in input.decisions
	lib.is_person(d.decided_by)
	not lib.has_role(d.decided_by, "security_office")
	msg := sprintf("decision on %s was made by %s, who is not in the security office (R5)", [id, d.decided_by])
}

violations contains lib.error("DECISION_SELF_APPROVAL", "decision", id, ["decided_by"], msg) if {
	some id, d in input.decisions
	d.decision == "approved"
	r := input.requests[id]
	involved := {r.applicant} | {p | some p in r.use.recipients}
	d.decided_by in involved
	msg := sprintf(
		"%s approved request %s in which they are the applicant or a recipient; another security officer must decide",
		[d.decided_by, id],
	)
}

violations contains lib.error("DECISION_SUPERVISOR_INVOLVED", "decision", id, ["conditions", "supervised_by"], msg) if {
	some id, d in input.decisions
	r := input.requests[id]
	supervisor := d.conditions.supervised_by
	supervisor in ({r.applicant} | {p | some p in r.use.recipients})
	msg := sprintf(
		"decision on %s names %s to supervise the extraction, but %s is the applicant or a recipient; the supervisor must be someone else (R10)",
		[id, supervisor, supervisor],
	)
}

violations contains lib.error("DECISION_SUPERVISOR_NOT_QUALIFIED", "decision", id, ["conditions", "supervised_by"], msg) if {
	some id, d in input.decisions
	supervisor := d.conditions.supervised_by
	lib.is_person(supervisor)
	not lib.has_role(supervisor, "supervisor")
	not lib.has_role(supervisor, "security_office")
	msg := sprintf(
		"decision on %s names %s to supervise the extraction, but %s has neither the supervisor nor the security_office role (R10)",
		[id, supervisor, supervisor],
	)
}

# R5/R10, separation of duties: who filed the request, who approved it and who supervises its
# extraction are different people (config separation_of_duties.distinct_people, default 3):
# one officer must not file in a teacher's name, approve it and supervise the copy alone.
violations contains lib.error("DECISION_DUTIES_NOT_SEPARATED", "decision", id, ["decided_by"], msg) if {
	some id, d in input.decisions
	d.decision == "approved"
	r := input.requests[id]
	involved := {r.applicant} | {p | some p in r.use.recipients}
	not d.decided_by in involved # DECISION_SELF_APPROVAL says so
	not object.get(d.conditions, "supervised_by", "") in involved # DECISION_SUPERVISOR_INVOLVED
	duties := array.concat([lib.filer(id), d.decided_by], supervisor_of(d))
	count({p | some p in duties}) < min([lib.distinct_duties, count(duties)])
	msg := sprintf(
		"request %s was filed by %s and approved by %s%s: these duties need %d different people (separation_of_duties.distinct_people); another officer must decide or supervise",
		[id, lib.filer(id), d.decided_by, supervised_text(d), min([lib.distinct_duties, count(duties)])],
	)
}

supervisor_of(d) := [d.conditions.supervised_by] if d.conditions.supervised_by

supervisor_of(d) := [] if not d.conditions.supervised_by

supervised_text(d) := sprintf(", supervised by %s", [d.conditions.supervised_by]) if d.conditions.supervised_by

supervised_text(d) := "" if not d.conditions.supervised_by

# A decision dated more than an hour after the clock: it claims to have been made later than
# now (a typo in the year, or a forged date). It decides nothing until that time comes.
violations contains lib.error("DECISION_IN_FUTURE", "decision", id, ["decided_at"], msg) if {
	some id, d in input.decisions
	time.parse_rfc3339_ns(d.decided_at) > future_after_ns
	msg := sprintf("decision on %s is dated %s, later than now (%s); write the real date", [id, d.decided_at, input.now])
}

future_after_ns := lib.now_ns + 3600000000000

violations contains lib.error("DECISION_REJECTION_WITHOUT_REASON", "decision", id, ["reasons"], msg) if {
	some id, d in input.decisions
	d.decision == "rejected"
	count([x | some x in d.reasons; trim_space(x) != ""]) == 0
	msg := sprintf("rejection of %s gives no reasons; rejections must be written with reasons (R5)", [id])
}

violations contains lib.error("DECISION_BEFORE_SUBMISSION", "decision", id, ["decided_at"], msg) if {
	some id, d in input.decisions
	r := input.requests[id]
	time.parse_rfc3339_ns(d.decided_at) < time.parse_rfc3339_ns(r.submitted_at)
	msg := sprintf("decision on %s is dated %s, before the request was submitted (%s)", [id, d.decided_at, r.submitted_at])
}

violations contains lib.error("DECISION_SCOPE_WIDENED", "decision", id, ["scope", "cameras", i], msg) if {
	some id, d in input.decisions
	r := input.requests[id]
	some i, camera in d.scope.cameras
	not camera in r.footage.cameras
	msg := sprintf("decision on %s adds camera %s, which the request did not ask for; a decision may only narrow", [id, camera])
}

violations contains lib.error("DECISION_SCOPE_WIDENED", "decision", id, ["scope", field], msg) if {
	some id, d in input.decisions
	some field, granted in d.scope # most decisions narrow nothing: test those that do
	r := input.requests[id]
	[requested, widens] := requested_bound(r, field)
	widened(widens, time.parse_rfc3339_ns(granted), time.parse_rfc3339_ns(requested))
	msg := sprintf(
		"decision on %s sets scope.%s to %s, %s than the request's %s; a decision may only narrow",
		[id, field, granted, widens, requested],
	)
}

requested_bound(r, "from") := [r.footage.from, "earlier"]

requested_bound(r, "to") := [r.footage.to, "later"]

requested_bound(r, "starts") := [r.use.starts, "earlier"]

requested_bound(r, "ends") := [r.use.ends, "later"]

widened("earlier", granted, requested) if granted < requested

widened("later", granted, requested) if granted > requested

violations contains lib.error("DECISION_THIRD_PARTY_NOT_ALLOWED", "decision", id, ["conditions", "third_party_allowed"], msg) if {
	some id, d in input.decisions
	d.decision == "approved"
	input.requests[id].use.mode == "share_external"
	not d.conditions.third_party_allowed
	msg := sprintf(
		"decision approves sharing %s with a third party but does not set conditions.third_party_allowed: true (R6)",
		[id],
	)
}
