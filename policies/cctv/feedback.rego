# Unit feedback (R12): each unit that used footage reports on its use every period, so the rules
# can be improved. Periods are config.feedback_every_months long, counted from January in UTC,
# and named by their first month ("2026-07"); feedback is due config.feedback_due_days after a
# period ends. Only the last completed period is asked for.
package cctv.feedback

import rego.v1

import data.cctv.lib
import data.cctv.references

months := input.config.feedback_every_months

# [year, month] of the start of the period that contains now, and of the one before it.
current_start := [y, m] if {
	[y, month, _] := time.date(lib.now_ns)
	m := (floor((month - 1) / months) * months) + 1
}

current_start_ns := time.parse_rfc3339_ns(sprintf("%d-%02d-01T00:00:00Z", current_start))

last_start_ns := time.add_date(current_start_ns, 0, 0 - months, 0)

last_period := sprintf("%d-%02d", [y, m]) if [y, m, _] := time.date(last_start_ns)

due_ns := current_start_ns + lib.days_ns(input.config.feedback_due_days)

# Units that filed a request during the last completed period.
units_owing contains r.unit if {
	some r in input.requests
	submitted := time.parse_rfc3339_ns(r.submitted_at)
	last_start_ns <= submitted
	submitted < current_start_ns
}

given(unit, period) if {
	some f in input.feedback
	f.unit == unit
	f.period == period
}

violations contains lib.warning("FEEDBACK_OVERDUE", "unit", unit, [], msg) if {
	lib.now_ns > due_ns
	some unit in units_owing
	not given(unit, last_period)
	msg := sprintf(
		"unit %s used footage in the period starting %s but has not reported on it (due %d days after the period, R12); add feedback/<ID>.yaml with unit %s and period %s",
		[unit, last_period, input.config.feedback_due_days, unit, last_period],
	)
}

violations contains lib.error("FEEDBACK_PERIOD_INVALID", "feedback", id, ["period"], msg) if {
	some id, f in input.feedback
	[_, month] := split(f.period, "-")
	(to_number(month) - 1) % months != 0
	msg := sprintf("feedback %s names period %s, which is not the first month of a %d-month period", [id, f.period, months])
}

violations contains references.unknown_person("feedback", id, ["submitted_by"], f.submitted_by) if {
	some id, f in input.feedback
	not lib.is_person(f.submitted_by)
}
