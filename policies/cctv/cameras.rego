# Camera inventory rules: R1 (no private areas), R2 (certified installers), R7 (approved storage).
package cctv.cameras

import rego.v1

import data.cctv.lib

violations contains lib.error("CAMERA_PRIVATE_AREA", "camera", id, ["zone"], msg) if {
	some id, cam in input.cameras
	cam.zone in input.config.private_zones
	msg := sprintf(
		"camera %s (%s) is in private zone %q; cameras are never allowed in private areas (R1): remove or relocate it",
		[id, cam.location, cam.zone],
	)
}

violations contains lib.error("CAMERA_UNCERTIFIED_INSTALLER", "camera", id, ["installed_by"], msg) if {
	some id, cam in input.cameras
	lib.is_person(cam.installed_by)
	not lib.has_role(cam.installed_by, "technician")
	msg := sprintf(
		"camera %s was installed by %s, who is not a certified technician (R2); have a technician inspect and sign it off",
		[id, cam.installed_by],
	)
}

violations contains lib.error("CAMERA_UNAPPROVED_STORAGE", "camera", id, ["storage"], msg) if {
	some id, cam in input.cameras
	input.targets[cam.storage].approved == false
	msg := sprintf(
		"camera %s stores footage on %q, which is not an approved storage server (R7); move it to an approved target",
		[id, cam.storage],
	)
}
