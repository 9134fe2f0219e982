# Request rules: R4 (written, in advance, purpose/time/manner), R3 (retention), R6 (third parties),
# R11 (no new requests while a usage report is overdue).
package cctv.requests

import rego.v1

import data.cctv.lib

violations contains lib.error("REQUEST_NOT_IN_ADVANCE", "request", id, ["submitted_at"], msg) if {
	some id, r in input.requests
	time.parse_rfc3339_ns(r.submitted_at) >= time.parse_rfc3339_ns(r.use.starts)
	msg := sprintf(
		"request %s was submitted at %s, not before its use starts at %s; requests must be filed in advance (R4)",
		[id, r.submitted_at, r.use.starts],
	)
}

violations contains lib.error("REQUEST_WINDOW_INVALID", "request", id, ["footage", "to"], msg) if {
	some id, r in input.requests
	time.parse_rfc3339_ns(r.footage.from) >= time.parse_rfc3339_ns(r.footage.to)
	msg := sprintf("request %s: footage window from %s to %s is empty or reversed", [id, r.footage.from, r.footage.to])
}

violations contains lib.error("REQUEST_WINDOW_INVALID", "request", id, ["footage", "to"], msg) if {
	some id, r in input.requests
	time.parse_rfc3339_ns(r.footage.to) > time.parse_rfc3339_ns(r.submitted_at)
	msg := sprintf(
		"request %s asks for footage up to %s, after it was submitted (%s); a request covers recorded footage only",
		[id, r.footage.to, r.submitted_at],
	)
}

violations contains lib.error("REQUEST_WINDOW_INVALID", "request", id, ["use", "ends"], msg) if {
	some id, r in input.requests
	time.parse_rfc3339_ns(r.use.starts) >= time.parse_rfc3339_ns(r.use.ends)
	msg := sprintf("request %s: use period from %s to %s is empty or reversed", [id, r.use.starts, r.use.ends])
}

violations contains lib.error("REQUEST_FOOTAGE_BEYOND_RETENTION", "request", id, ["footage", "from"], msg) if {
	some id, r in input.requests
	oldest := time.parse_rfc3339_ns(r.submitted_at) - retention_ns
	time.parse_rfc3339_ns(r.footage.from) < oldest
	msg := sprintf(
		"request %s asks for footage from %s, older than the %d-day retention when it was submitted; that footage is deleted (R3)",
		[id, r.footage.from, input.config.retention_days],
	)
}

violations contains lib.error("REQUEST_USE_TOO_LONG", "request", id, ["use", "ends"], msg) if {
	some id, r in input.requests
	length := time.parse_rfc3339_ns(r.use.ends) - time.parse_rfc3339_ns(r.use.starts)
	length > max_use_ns
	msg := sprintf(
		"request %s asks to use footage for %d days; at most %d days are allowed (R4): shorten use.ends",
		[id, lib.whole_days(length), input.config.max_use_days],
	)
}

violations contains lib.error("REQUEST_PURPOSE_NOT_ALLOWED", "request", id, ["purpose", "category"], msg) if {
	some id, r in input.requests
	not r.purpose.category in input.config.allowed_purposes
	msg := sprintf(
		"request %s: purpose %q is not an allowed purpose (allowed: %s)",
		[id, r.purpose.category, concat(", ", input.config.allowed_purposes)],
	)
}

violations contains lib.error("REQUEST_THIRD_PARTY_WITHOUT_BASIS", "request", id, ["use", "third_party"], msg) if {
	some id, r in input.requests
	r.use.mode == "share_external"
	not has_legal_basis(r)
	msg := sprintf(
		"request %s shares footage with a third party without a legal basis (R6); name the organization and legal_basis (e.g. a police case number)",
		[id],
	)
}

violations contains lib.error("REQUEST_THIRD_PARTY_WITHOUT_BASIS", "request", id, ["use", "mode"], msg) if {
	some id, r in input.requests
	r.use.third_party
	r.use.mode != "share_external"
	msg := sprintf(
		"request %s names a third party but its mode is %s; footage reaches third parties only with mode share_external and a legal basis (R6)",
		[id, r.use.mode],
	)
}

retention_ns := lib.days_ns(input.config.retention_days)

max_use_ns := lib.days_ns(input.config.max_use_days)

has_legal_basis(r) if {
	trim_space(r.use.third_party.legal_basis) != ""
	trim_space(r.use.third_party.organization) != ""
}

# Times during which an applicant had an overdue usage report: from the due date until the
# report came in. A request filed inside such a window is refused (R11).
overdue_windows[r.applicant] contains {"request": id, "due": due, "until": until} if {
	some id, decision in input.decisions
	decision.decision == "approved"
	r := input.requests[id]
	due := lib.report_due_ns(id)
	until := lib.report_in_ns(id)
	due < until
}

violations contains lib.error("REQUEST_APPLICANT_REPORT_OVERDUE", "request", id, ["applicant"], msg) if {
	windows := overdue_windows
	some id, r in input.requests
	some w in windows[r.applicant]
	w.request != id
	submitted := time.parse_rfc3339_ns(r.submitted_at)
	w.due < submitted
	submitted < w.until
	msg := sprintf(
		"request %s: applicant %s still owed the usage report for %s (due %d days before this request) when filing it; submit that report first (R11)",
		[id, r.applicant, w.request, lib.whole_days(submitted - w.due)],
	)
}

# The unit a request is filed for is the applicant's own (people.yaml): a request cannot speak
# for another department.
violations contains lib.error("REQUEST_UNIT_MISMATCH", "request", id, ["unit"], msg) if {
	some id, r in input.requests
	person := input.people[r.applicant]
	r.unit != person.unit
	msg := sprintf(
		"request %s is filed for unit %s, but its applicant %s is in unit %s (people.yaml); write unit: %s",
		[id, r.unit, r.applicant, person.unit, person.unit],
	)
}
