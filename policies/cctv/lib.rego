# Shared helpers for the cctv rule book. The clock is input.now: no policy reads the time.
package cctv.lib

import rego.v1

day_ns := 86400000000000

# Later than any footage or use period: "no report yet".
forever_ns := 253402300799000000000

# Times are RFC 3339 strings; rules compare them as time.parse_rfc3339_ns(...) (the builtin
# directly: a helper function around it costs a call on every document of a large registry).
now_ns := time.parse_rfc3339_ns(input.now)

days_ns(n) := n * day_ns

whole_days(duration_ns) := floor(duration_ns / day_ns)

error(code, kind, id, field, message) := {
	"code": code, "severity": "error", "kind": kind, "id": id,
	"field": field, "message": message,
}

warning(code, kind, id, field, message) := {
	"code": code, "severity": "warning", "kind": kind, "id": id,
	"field": field, "message": message,
}

is_person(id) if input.people[id]

has_role(id, role) if role in input.people[id].roles

is_approved(request_id) if input.decisions[request_id].decision == "approved"

# A decision pins the request it decided (request_sha256, the SHA-256 of the request's canonical
# JSON, computed by the loader into input.request_sha256). Stale: the request changed since, or
# the decision pins nothing.
stale(request_id) if not input.decisions[request_id].request_sha256 == input.request_sha256[request_id]

# Who filed a request: submitted_by when someone filed it for the applicant, else the applicant.
filer(request_id) := object.get(input.requests[request_id], "submitted_by", input.requests[request_id].applicant)

# How many different people the filer, the decider and the supervisor must be (2 or 3).
distinct_duties := object.get(input.config, ["separation_of_duties", "distinct_people"], 3)

# Unreadable files were already reported by the loader: do not report them again as missing.
unreadable(kind, id) if id in input.unreadable[kind]

# The approved scope of a request: the decision may narrow cameras, footage window and use period.
effective_cameras(request_id) := object.get(input.decisions[request_id], ["scope", "cameras"], input.requests[request_id].footage.cameras)

effective_from(request_id) := object.get(input.decisions[request_id], ["scope", "from"], input.requests[request_id].footage.from)

effective_to(request_id) := object.get(input.decisions[request_id], ["scope", "to"], input.requests[request_id].footage.to)

effective_starts(request_id) := object.get(input.decisions[request_id], ["scope", "starts"], input.requests[request_id].use.starts)

effective_ends(request_id) := object.get(input.decisions[request_id], ["scope", "ends"], input.requests[request_id].use.ends)

report_due_ns(request_id) := time.parse_rfc3339_ns(effective_ends(request_id)) + report_due_after_ns

report_due_after_ns := days_ns(input.config.report_due_days)

# When the usage report came in, or forever_ns while it has not.
report_in_ns(request_id) := time.parse_rfc3339_ns(input.reports[request_id].submitted_at)

report_in_ns(request_id) := forever_ns if not input.reports[request_id]
