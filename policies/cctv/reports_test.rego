package cctv.reports_test

import rego.v1

import data.cctv.fixtures as fx
import data.cctv.reports

report := {"request": "REQ-1", "submitted_by": "app", "submitted_at": "2026-11-29T00:00:00Z", "summary": "Viewed, nothing copied", "copies": "destroyed"}

test_report_for_unknown_request_flagged if {
	vs := reports.violations with input as fx.changed({"reports": {"REQ-7": object.union(report, {"request": "REQ-7"})}})
	fx.has_code(vs, "REPORT_UNKNOWN_REQUEST")
}

test_report_for_known_request_passes if {
	vs := reports.violations with input as fx.changed({"reports": {"REQ-1": report}})
	not fx.has_code(vs, "REPORT_UNKNOWN_REQUEST")
}

# REQ-1's use ends 2026-11-28, so its report is due 2026-12-05.
test_missing_report_after_due_date_is_overdue_warning if {
	vs := reports.violations with input as fx.changed({"now": "2026-12-06T00:00:00Z"})
	some v in vs
	v.code == "REPORT_OVERDUE"
	v.severity == "warning"
	contains(v.message, "1 days overdue")
}

test_missing_report_before_due_date_passes if {
	vs := reports.violations with input as fx.changed({"now": "2026-12-04T23:00:00Z"})
	not fx.has_code(vs, "REPORT_OVERDUE")
}

test_report_in_passes if {
	vs := reports.violations with input as fx.changed({"now": "2026-12-06T00:00:00Z", "reports": {"REQ-1": report}})
	not fx.has_code(vs, "REPORT_OVERDUE")
}

test_rejected_request_owes_no_report if {
	vs := reports.violations with input as fx.changed({"now": "2027-01-01T00:00:00Z", "decisions": {"REQ-1": {"decision": "rejected"}}})
	not fx.has_code(vs, "REPORT_OVERDUE")
}

test_due_date_follows_narrowed_use_end if {
	vs := reports.violations with input as fx.changed({"now": "2026-12-03T00:00:00Z", "decisions": {"REQ-1": {"scope": {"ends": "2026-11-25T00:00:00Z"}}}})
	fx.has_code(vs, "REPORT_OVERDUE")
}

test_due_report_listed_with_due_date if {
	some d in reports.due_reports with input as fx.base
	d.request == "REQ-1"
	d.state == "due"
	d.due == "2026-12-05T00:00:00Z"
	d.days_late == 0
}

test_overdue_report_counts_days_late if {
	some d in reports.due_reports with input as fx.changed({"now": "2026-12-08T01:00:00Z"})
	d.state == "overdue"
	d.days_late == 3
}

test_report_in_is_not_due if {
	count(reports.due_reports) == 0 with input as fx.changed({"reports": {"REQ-1": report}})
}
