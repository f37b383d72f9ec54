"""The bench's peer (PostGraphile v4, bench/peer/) answers what our server answers: the same
student's dashboard and catalogue hold the same values, but for the differences BENCHMARKS.md
names, in about as many bytes; and the interleaved load runs through both without errors."""

from __future__ import annotations

import shutil
from typing import Any

import httpx
import pytest
from sqlalchemy import URL

from bench import data, peer
from bench.__main__ import CATALOGUE, DASHBOARD, PROGRESS, equivalence, lessons_for, tokens_for
from bench.equivalence import number
from bench.harness import bench_database, run_server
from bench.load import Contender, graphql_call, interleaved

pytestmark = pytest.mark.slow


async def test_peer_reads_the_same_values_in_as_many_bytes(server_url: URL, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: the bench's PostGraphile peer needs them")
    node = peer.install()
    # The bench makes a database of its own on this server, as it does on LMS_DATABASE_URL's.
    monkeypatch.setenv("LMS_DATABASE_URL", server_url.render_as_string(hide_password=False))
    with bench_database() as owner_url:
        prepared = data.prepare(owner_url, data.Sizes(tenants=2, students=20, courses=12))
        tokens, users = tokens_for(prepared.owner_conninfo, prepared.dataset, 3)
        lessons = lessons_for(prepared.owner_conninfo, prepared.dataset, users)
        with (
            run_server(owner_url, LMS_BENCH="1") as server,
            peer.run_peer(node, prepared.app_conninfo, 1) as (peer_base, peer_pid),
        ):
            async with (
                httpx.AsyncClient(base_url=server.base, timeout=60) as ours,
                httpx.AsyncClient(base_url=peer_base, timeout=60) as theirs,
            ):
                # Recent activity and progress to compare: two writes through our server.
                for progress in (40, 100):
                    written = await ours.post(
                        "/graphql",
                        json={"query": PROGRESS, "variables": {"l": lessons[0], "p": progress}},
                        headers={"Authorization": f"Bearer {tokens[0]}"},
                    )
                    assert "errors" not in written.json(), written.text
                variables = peer.variables_for("dashboard", prepared.dataset.tenant_id, users)(0)
                found = await equivalence(ours, theirs, tokens[0], variables)
                mine = await ours.post(
                    "/graphql", json={"query": DASHBOARD}, headers={"Authorization": f"Bearer {tokens[0]}"}
                )
                dashboard: dict[str, Any] = mine.json()["data"]["myDashboard"]
                assert dashboard["recentActivity"], "the writes left no activity to compare"

                # Ours alone: overallProgress. The peer alone: each upcoming assessment's answer
                # key (one question each in the bench data), which our server hides from students.
                assert found["dashboard"]["only_ours"] == 1, found
                # As the comparison writes numbers (a normalised decimal: 15.0 is "15").
                assert found["dashboard"]["only_ours_examples"] == [" ".join(number(dashboard["overallProgress"]))]
                assert found["dashboard"]["only_peer"] == len(dashboard["upcomingAssessments"]) > 0, found
                assert found["dashboard"]["only_peer_examples"] == ["bool True"]
                assert found["catalogue"]["only_ours"] == found["catalogue"]["only_peer"] == 0, found
                for scenario in found.values():
                    assert 0.9 <= scenario["bytes_ratio"] <= 1.1, found

                contenders = {}
                for name, query in (("dashboard", DASHBOARD), ("catalogue", CATALOGUE)):
                    per_request = peer.variables_for(name, prepared.dataset.tenant_id, users)
                    contenders[f"{name} ours"] = Contender(graphql_call(ours, query, tokens), [server.process.pid])
                    contenders[f"{name} peer"] = Contender(
                        graphql_call(theirs, peer.QUERIES[name], tokens, per_request), [peer_pid]
                    )
                runs = await interleaved(contenders, 12, 3, 2)
                for name, run in runs.items():
                    summary = run.summary()
                    assert (summary["requests"], summary["errors"]) == (12, 0), (name, summary)
                    assert summary["bytes"], (name, summary)
                    assert summary["server_cpu_ms"] is not None, (name, summary)
