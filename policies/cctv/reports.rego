# Usage report rules: R11 (report within report_due_days after the use period ends).
package cctv.reports

import rego.v1

import data.cctv.lib

violations contains lib.error("REPORT_UNKNOWN_REQUEST", "report", id, ["request"], msg) if {
	some id, _ in input.reports
	not input.requests[id]
	not lib.unreadable("request", id)
	msg := sprintf("usage report for %s has no request file requests/%s.yaml", [id, id])
}

violations contains lib.warning("REPORT_OVERDUE", "request", id, ["use", "ends"], msg) if {
	some id, r in input.requests
	lib.is_approved(id)
	not input.reports[id]
	not lib.unreadable("report", id)
	due := lib.report_due_ns(id)
	lib.now_ns > due
	msg := sprintf(
		"usage report for %s by %s is %d days overdue (due %d days after the use period ended, R11); new requests by %s are refused until it is in",
		[id, r.applicant, lib.whole_days(lib.now_ns - due), input.config.report_due_days, r.applicant],
	)
}

# Usage reports still owed: approved requests without a report, with their due date and how
# late they are (R11). For `cctv-policy reports due` and the inspection report.
due_reports contains {
	"request": id, "applicant": r.applicant, "unit": r.unit,
	"due": time.format(due), "days_late": late, "state": state,
} if {
	some id, r in input.requests
	lib.is_approved(id)
	not input.reports[id]
	due := lib.report_due_ns(id)
	late := max([0, lib.whole_days(lib.now_ns - due)])
	state := report_state(due)
}

report_state(due) := "overdue" if lib.now_ns > due

report_state(due) := "due" if lib.now_ns <= due
