"""The security office's and applicants' paperwork: decisions (`decide`), new requests (`new
request`, the issue form) and the written notices."""
