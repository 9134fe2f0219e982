"""cctv-policy: policy-as-code governance for a school's CCTV footage."""

__version__ = "0.1.0"
