# The pull-request gate: every violation of the rule book over the whole registry. Each
# violation is {code, severity, kind, id, field, message}.
package cctv.check

import rego.v1

import data.cctv.attachments
import data.cctv.cameras
import data.cctv.config
import data.cctv.decisions
import data.cctv.devices
import data.cctv.feedback
import data.cctv.holds
import data.cctv.references
import data.cctv.register
import data.cctv.reports
import data.cctv.requests
import data.cctv.waivers

# The rule book's parts, one per package. `violations` is their union; cctv-policy may evaluate
# the named parts side by side over the same input (its scheduler, in Python, knows their costs).
part_names := {
	"attachments", "cameras", "config", "decisions", "devices", "feedback",
	"holds", "references", "register", "reports", "requests", "waivers",
}

parts["attachments"] := attachments.violations

parts["cameras"] := cameras.violations

parts["config"] := config.violations

parts["decisions"] := decisions.violations

parts["devices"] := devices.violations

parts["feedback"] := feedback.violations

parts["holds"] := holds.violations

parts["references"] := references.violations

parts["register"] := register.violations

parts["reports"] := reports.violations

parts["requests"] := requests.violations

parts["waivers"] := waivers.violations

violations := union({parts[name] | some name in part_names})
