"""cctv-policy: policy-as-code governance for a school's CCTV footage."""

import os

__version__ = "0.1.0"

# pydantic otherwise loads, as a plugin that sees every validation, whatever any installed
# package declares under the `pydantic` entry point, and reads every package's metadata to
# find them when the first model is built. Nothing else installed beside the enforcer may
# watch or change how the registry is validated. An operator who sets the variable decides.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
