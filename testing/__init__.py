"""Helpers the tests share: registry fixtures, a real Ceph RGW, the real opa binary and
`opa run --server` processes."""
