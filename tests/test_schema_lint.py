"""graphql-schema-linter (npm) on the exported schema, with the rules in tests/schema_lint/package.json.

Those are its description rules and every other rule the schema follows without renaming or
reshaping the public contract. Left out, on purpose: the four *-sorted-alphabetically rules (fields,
arguments and enum values are listed in reading order: id first, lifecycle states in their order),
relay-page-info-spec (it asks PageInfo for hasPreviousPage; our cursors only go forward) and
relay-connection-arguments-spec (the contract pages `courses` with a `pagination` input, not
top-level first/after)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lms_graphql.schema import export_schema
from tests.support.node import node_with_packages

pytestmark = pytest.mark.slow

LINT_DIR = Path(__file__).resolve().parent / "schema_lint"
DESCRIPTION_RULES = {
    "types-have-descriptions",
    "fields-have-descriptions",
    "arguments-have-descriptions",
    "input-object-values-have-descriptions",
    "enum-values-have-descriptions",
}


@pytest.fixture(scope="session")
def linter() -> Path:
    node_with_packages(LINT_DIR, "graphql-schema-linter cannot run (test_schema_descriptions still does)")
    return LINT_DIR / "node_modules" / ".bin" / "graphql-schema-linter"


def lint(linter: Path, sdl: str, tmp_path: Path) -> list[dict[str, Any]]:
    schema_file = tmp_path / "schema.graphql"
    schema_file.write_text(sdl)
    result = subprocess.run(
        [str(linter), "--config-directory", str(LINT_DIR), "--format", "json", str(schema_file)],
        cwd=LINT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: errors found; anything else: it could not lint
    errors: list[dict[str, Any]] = json.loads(result.stdout)["errors"]
    return errors


def configured_rules() -> list[str]:
    rules: list[str] = json.loads((LINT_DIR / "package.json").read_text())["graphql-schema-linter"]["rules"]
    return rules


def test_the_configured_rules_exist_and_include_the_description_rules(linter: Path) -> None:
    # The linter silently ignores a rule name it does not know: a typo would switch a rule off.
    rule_files = LINT_DIR / "node_modules" / "graphql-schema-linter" / "lib" / "rules"
    known = {path.stem.replace("_", "-") for path in rule_files.glob("*.js")}
    assert set(configured_rules()) <= known
    assert set(configured_rules()) >= DESCRIPTION_RULES


def test_the_linter_finds_a_missing_description(linter: Path, tmp_path: Path) -> None:
    errors = lint(linter, "type Query {\n  a(b: Int): String\n}\n", tmp_path)
    assert {error["rule"] for error in errors} == {
        "types-have-descriptions",
        "fields-have-descriptions",
        "arguments-have-descriptions",
    }


def test_the_exported_schema_passes_the_linter(linter: Path, tmp_path: Path) -> None:
    errors = lint(linter, export_schema(), tmp_path)
    assert [f"{error['rule']}: {error['message']}" for error in errors] == []
