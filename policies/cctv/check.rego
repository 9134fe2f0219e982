# The pull-request gate: every violation of the rule book over the whole registry, in one
# evaluation. Each violation is {code, severity, kind, id, field, message}.
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

violations := (((((((((references.violations | config.violations) | cameras.violations) | requests.violations) | decisions.violations) | reports.violations) | holds.violations) | devices.violations) | register.violations) | feedback.violations) | attachments.violations
