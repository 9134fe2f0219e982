# Detected violations that the security office has not put in the register (R12) within
# config.register_within_days of when they became visible. Listed in the inspection report.
package cctv.register_due

import rego.v1

import data.cctv.check
import data.cctv.lib

registered contains entry.subject if {
	some entry in input.violation_register
}

# When the subject's own document says it happened: from then on the violation was visible.
since("request", id) := input.requests[id].submitted_at

since("decision", id) := input.decisions[id].decided_at

since("report", id) := input.reports[id].submitted_at

since("hold", id) := input.holds[id].created_at

since("maintenance", id) := input.maintenance[id].performed_at

since("camera", id) := input.cameras[id].installed_on

unregistered contains {"code": v.code, "subject": subject, "since": at, "message": v.message} if {
	some v in check.violations
	v.severity == "error"
	not startswith(v.code, "E_")
	subject := sprintf("%s:%s", [v.kind, v.id])
	not subject in registered
	at := since(v.kind, v.id)
	lib.now_ns - time.parse_rfc3339_ns(at) > lib.days_ns(input.config.register_within_days)
}
