"""Every code and every input error can be read in Chinese and in English, in plain words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.messages import INPUT, RULES, language
from tests.conftest import DATA, NOW_TEXT, POLICIES, REPO

_RULE_CODE = re.compile(r'lib\.(?:error|warning)\(\s*"([A-Z][A-Z0-9_]+)"')
_LOADER_CODE = re.compile(r'"(E_[A-Z_]+)"')
_INPUT_KEY = re.compile(
    r"(?:problem|not_read\([^,]+|self\.issue\([^,]+, [^,]+, [^,]+)"
    r'(?:=|, )"([a-z_0-9]+)"'
)


def policy_codes() -> set[str]:
    return {
        code
        for path in POLICIES.rglob("*.rego")
        if not path.name.endswith("_test.rego")
        for code in _RULE_CODE.findall(path.read_text())
    }


def loader_codes() -> set[str]:
    """Codes the registry loader reports (loader.py and the parsing it calls)."""
    found = set()
    for path in (REPO / "cctv_policy/registry").glob("*.py"):
        found |= set(_LOADER_CODE.findall(path.read_text()))
    return found


def python_check_codes() -> set[str]:
    """Codes the Python checks (provenance, CODEOWNERS) report."""
    found = set()
    for path in [
        *(REPO / "cctv_policy/checks").glob("*.py"),
        *(REPO / "cctv_policy/provenance").glob("*.py"),
    ]:
        found |= set(re.findall(r'"((?:PROVENANCE|REQUEST)_[A-Z_]+)"', path.read_text()))
    return found


def test_codes_are_collected():
    assert {"E_REFERENCE", "REQUEST_USE_TOO_LONG", "REQUEST_UNIT_MISMATCH"} <= policy_codes()
    assert {"E_YAML", "E_SCHEMA", "E_DUPLICATE_ID"} <= loader_codes()
    assert {"PROVENANCE_MISMATCH", "REQUEST_BACKDATED"} <= python_check_codes()


@pytest.mark.parametrize("code", sorted(policy_codes() | loader_codes() | python_check_codes()))
def test_every_code_has_both_languages(code: str):
    rule = RULES[code]
    for text in (rule.title, rule.fix):
        assert text.en.strip() and text.zh.strip()
        assert re.search(r"[\u4e00-\u9fff]", text.zh), f"{code}: the Chinese text is not Chinese"


@pytest.mark.parametrize("key", sorted(INPUT))
def test_every_input_message_has_both_languages_and_the_same_values(key: str):
    text = INPUT[key]
    assert text.en.strip() and text.zh.strip()
    names = re.compile(r"\{(\w+)\}")
    assert set(names.findall(text.en)) == set(names.findall(text.zh)), key


def test_loader_keys_exist():
    loader = (REPO / "cctv_policy/registry").glob("*.py")
    used = {k for path in loader for k in re.findall(r'"([a-z]+_[a-z_0-9]+)"', path.read_text())}
    assert {"yaml_tab", "not_utf8", "duplicate_id", "name_mismatch"} <= used & set(INPUT)


def test_language_choice(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CCTV_POLICY_LANG", raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert language(None, None) == "zh"
    assert language(None, "en") == "en"
    assert language("en", "zh") == "en"
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert language(None, None) == "en"
    monkeypatch.setenv("CCTV_POLICY_LANG", "zh")
    assert language(None, None) == "zh"


_JARGON = re.compile(
    r"pydantic|Input should|String should|\^\[|dictionary|instance of|"
    r"RFC 3339|NoneType|\bdict\b|\bstr\b|Traceback",
    re.IGNORECASE,
)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_bad_corpus_messages_are_plain(lang: str, tmp_path: Path):
    import shutil

    for case in sorted((DATA / "bad").iterdir()):
        registry = tmp_path / case.name
        shutil.copytree(REPO / "registry", registry)
        if (case / "registry").exists():
            shutil.copytree(case / "registry", registry, dirs_exist_ok=True)
        result = CliRunner().invoke(
            cli, ["check", "--registry", str(registry), "--now", NOW_TEXT, "--lang", lang]
        )
        problems = [line for line in result.output.splitlines() if " E_" in line]
        assert problems, case.name
        for line in problems:
            assert not _JARGON.search(line), line
            if lang == "zh":
                assert re.search(r"[\u4e00-\u9fff]", line), line


def test_codes_reference_is_up_to_date():
    from cctv_policy.messages import codes_markdown

    assert (REPO / "docs/codes.md").read_text() == codes_markdown(), (
        "regenerate: python -m cctv_policy.messages > docs/codes.md"
    )


def test_registry_format_reference_names_every_field_in_both_languages():
    from pydantic import BaseModel

    from cctv_policy.registry import models

    text = (REPO / "docs/registry.md").read_text()
    chinese, _, english = text.partition("## English")
    for model in vars(models).values():
        if isinstance(model, type) and issubclass(model, BaseModel) and model is not models.Strict:
            for name, info in model.model_fields.items():
                field = f"`{info.alias or name}`"
                assert field in chinese and field in english, f"{model.__name__}.{name}"
