"""schema.graphql is the exported schema, and a superset of the public contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, find_breaking_changes

from lms_graphql.schema import export_schema

ROOT = Path(__file__).resolve().parent.parent
SHARED_CONTRACT = ROOT.parent / "shared" / "contract" / "contract.graphql"
# A copy travels with the repository, so a clone anywhere can check itself against it.
CONTRACT = Path(__file__).resolve().parent / "contract.graphql"

# Parts of the contract that belong to open issues, each naming its issue. The test fails
# as soon as one of them exists (take it off this list) and for any other breaking change.
PENDING: dict[str, str] = {}


def test_the_copied_contract_is_the_shared_one() -> None:
    if not SHARED_CONTRACT.exists():
        pytest.skip(f"{SHARED_CONTRACT} is not beside this checkout: checking against the copy only")
    assert CONTRACT.read_text() == SHARED_CONTRACT.read_text(), "copy ../shared/contract/contract.graphql to tests/"


def test_schema_file_is_the_exported_schema() -> None:
    assert (ROOT / "schema.graphql").read_text() == export_schema(), "run: lms-graphql export-schema > schema.graphql"


def test_schema_is_a_superset_of_the_contract() -> None:
    contract = build_schema(CONTRACT.read_text())
    ours = build_schema((ROOT / "schema.graphql").read_text())
    breaking = {
        change.description.replace("Field ", "").replace("Type ", "")
        for change in find_breaking_changes(contract, ours)
    }
    assert breaking - set(PENDING) == set()
    assert set(PENDING) - breaking == set(), "implemented: remove these from PENDING"
