"""Exit codes and examples for the commands whose own help does not show them, appended to
their --help (main._Cli attaches them when it loads a command). A command that documents both
in its docstring needs no entry; tests/cli/test_help.py checks that every command has both."""

from __future__ import annotations

import click

_READS = """\
  2  the tool could not run (bad flags, missing registry, engine unavailable)
  3  the registry cannot be read as written (run `cctv-policy check`)"""

# command path -> (exit codes, examples); lines as shown, without indentation.
HELP: dict[str, tuple[str, str]] = {
    "rules": (
        "  0  written (with --changes: the revision is complete)\n"
        "  1  --changes: the parameters changed and effective_from is missing or past\n"
        "  2  the tool could not run (no registry, git cannot compare with BASE)",
        "",
    ),
    "test": (
        "  0  every Rego test passes\n  1  a test fails\n"
        "  2  the policies cannot be loaded or compiled",
        "  cctv-policy test\n  cctv-policy test policies -v --run 'requests'",
    ),
    "plan": ("  0  a plan was made (it may delete, hold, grant or revoke)\n" + _READS, ""),
    "audit": (
        "  0  done\n  1  the log was tampered with (verify)\n  2  the log cannot be read",
        "  cctv-policy audit verify\n  cctv-policy audit show --request REQ-2026-0042",
    ),
    "audit show": (
        "  0  shown (an empty result too)\n  2  the audit log cannot be read or written",
        "  cctv-policy audit show --request REQ-2026-0042\n"
        "  cctv-policy audit show --person t.wang --since 2026-11-01T00:00:00+08:00",
    ),
    "demo": ("  0  done\n  2  the tool could not run", "  cctv-policy demo footage --days 3"),
    "demo footage": (
        "  0  footage written\n  2  the tool could not run (no such target)",
        "  cctv-policy demo footage --target nas-main --root /tmp/nas --days 3",
    ),
    "authorize": (
        "",
        "  cctv-policy authorize --principal t.wang --camera CAM-GATE-01 \\\n"
        "      --at 2026-11-24T16:30:00+08:00",
    ),
    "serve": (
        "  0  stopped cleanly\n  2  the tool could not run (port taken, bad TLS files, "
        "no engine)\n  3  the registry cannot be read as written",
        "  cctv-policy serve --port 8181\n"
        "  cctv-policy serve --tls-cert cert.pem --tls-key key.pem --token-file tokens",
    ),
    "changes": (
        "  0  written\n  2  git cannot tell what changed (base not fetched)",
        '  cctv-policy changes --base origin/main >> "$GITHUB_STEP_SUMMARY"',
    ),
    "notice": (
        "  0  the notice was written\n  1  not decided yet, or the approval is not "
        "valid\n" + _READS,
        "  cctv-policy notice REQ-2026-0042 --lang zh\n"
        "  cctv-policy notice REQ-2026-0042 --format html --out notice.html",
    ),
    "extract": (
        "  0  done\n  1  refused (not validly approved, outside the use period) or "
        "the package does not verify\n" + _READS,
        "  cctv-policy extract keygen --out extract.key\n"
        "  cctv-policy extract request REQ-2026-0042 --supervisor s.zhou \\\n"
        "      --to /media/usb --signing-key extract.key\n"
        "  cctv-policy extract verify /media/usb/REQ-2026-0042",
    ),
    "extract keygen": (
        "  0  the key was written\n  2  the key cannot be written",
        "  cctv-policy extract keygen --out extract.key",
    ),
    "extract request": (
        "  0  extracted (one clip per camera, cut to the window)\n  1  refused (not "
        "validly approved, outside the use period, wrong supervisor, footage ffmpeg "
        "cannot cut as asked)\n" + _READS + "\n  (2 also: ffmpeg/ffprobe not installed)",
        "  cctv-policy extract request REQ-2026-0042 --supervisor s.zhou \\\n"
        "      --to /media/usb --signing-key extract.key [--watermark]",
    ),
    "extract verify": ("", "  cctv-policy extract verify /media/usb/REQ-2026-0042"),
    "reports": ("  0  done\n" + _READS, "  cctv-policy reports due --format json"),
    "reports due": (
        "  0  listed (overdue reports are listed, not an error)\n" + _READS,
        "  cctv-policy reports due\n  cctv-policy reports due --format json",
    ),
    "report": (
        "  0  written\n" + _READS,
        "  cctv-policy report --from 2026-09-01T00:00:00+08:00 "
        "--to 2026-12-01T00:00:00+08:00 \\\n      --format html --out inspection.html",
    ),
    "bundle": (
        "  0  built (and published with --publish)\n"
        "  1  --publish refused: the published bundle is newer (built later, or from a newer "
        "commit)\n"
        "  2  the tool could not run (signing key, storage)\n"
        "  3  refused: `check` reports errors, nothing is built or published",
        "",
    ),
    "decision-log-ingest": (
        "  0  stopped cleanly\n  2  the port is taken or the audit log cannot be written",
        "  cctv-policy decision-log-ingest --port 8282 --audit-log audit/audit.jsonl",
    ),
    "new": (
        "  0  written and clean\n  1  written, with problems shown\n"
        "  2  the tool could not run\n  3  not written (an unknown person, camera or "
        "purpose)",
        "",
    ),
}


def attach(path: str, command: click.Command) -> None:
    """Append the missing parts of a command's help (once), then its subcommands'."""
    exit_codes, examples = HELP.get(path, ("", ""))
    text = command.help or ""
    parts = []
    if exit_codes and "Exit codes" not in text:
        parts.append("\b\nExit codes:\n" + exit_codes)
    if examples and "Examples" not in text:
        parts.append("\b\nExamples:\n" + examples)
    if parts and not command.epilog:
        command.epilog = "\n\n".join(parts)
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            attach(f"{path} {name}", sub)
