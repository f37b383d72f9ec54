"""Import layering of lms_graphql, checked with ast (nothing is imported). Layers, lowest first: foundation
(models, kit, errors, config) <- repositories <- services and other domain modules <- transports (*/graphql.py,
*/types.py, operations/, rest/, entry points). Imports at module level, in functions and under TYPE_CHECKING all count.
"""

from __future__ import annotations

import ast
import importlib.util
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

ROOT = "lms_graphql"
_SPEC = importlib.util.find_spec(ROOT)  # locates the package without importing it
assert _SPEC is not None
assert _SPEC.submodule_search_locations is not None
PACKAGE = Path(next(iter(_SPEC.submodule_search_locations)))

DOMAIN_PACKAGES = frozenset(
    {"courses", "enrollments", "assessments", "users", "auth", "tenancy", "events", "notifications", "audit"}
    | {"analytics", "dashboard", "limits", "kit", "models", "operations", "compiled", "documents", "authoring", "paths"}
    | {"storage", "media", "jobs", "privacy", "administration"}
)
# Modules directly in lms_graphql/ are domain (service layer) unless listed here.
LOOSE_TRANSPORTS = frozenset(
    {"app", "cli", "document_commands", "placement_commands", "endpoint", "context", "schema", "server", "demo"}
    | {"loaders", "file_routes", "offboarding_commands"}
)
LOOSE_FOUNDATION = frozenset({"errors", "config", "migration_helpers", "migrate"})
FOUNDATION, REPOSITORY, SERVICE, TRANSPORT = range(4)
LAYERS = ("foundation", "repository", "service", "transport")
FRAMEWORKS = frozenset({"starlette", "strawberry", "uvicorn"})


class Import(NamedTuple):
    source: str
    target: str
    where: str  # file:line
    names: str
    kind: str  # "top", "function" or "type_checking"


MODULES = {
    ".".join([ROOT, *path.relative_to(PACKAGE).with_suffix("").parts]).removesuffix(".__init__"): path
    for path in sorted(PACKAGE.rglob("*.py"))
}


# Modules of domain packages that plug into strawberry: transports whatever their name.
DOMAIN_TRANSPORTS = frozenset({"limits.extension", "limits.charging", "dashboard.priming"})


def layer(module: str) -> int:
    parts = module.split(".")[1:] or ["__init__"]
    loose = len(parts) == 1 and parts[0] not in DOMAIN_PACKAGES
    if parts[0] in {"models", "kit", "__init__"} or (loose and parts[0] in LOOSE_FOUNDATION):
        return FOUNDATION
    if (
        parts[0] in {"operations", "rest"}
        or parts[-1] in {"graphql", "types", "routes"}
        or ".".join(parts) in DOMAIN_TRANSPORTS
        or (loose and parts[0] in LOOSE_TRANSPORTS)
    ):
        return TRANSPORT
    return REPOSITORY if parts[-1].endswith("repository") else SERVICE


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str) -> None:
        self.module, self.kind, self.package = module, "top", MODULES[module].name == "__init__.py"
        self.imports: list[Import] = []
        self.external: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        guard = isinstance(node.test, ast.Name | ast.Attribute) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        outer = self.kind
        self.kind = "type_checking" if guard and outer == "top" else outer
        for statement in node.body:
            self.visit(statement)
        self.kind = outer
        for statement in node.orelse:
            self.visit(statement)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        outer, self.kind = self.kind, "function"
        self.generic_visit(node)
        self.kind = outer

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _visit_function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            here = self.module.split(".")[: None if self.package else -1]
            base = ".".join([*here[: len(here) - node.level + 1], *filter(None, [node.module])])
        names: dict[str, list[str]] = defaultdict(list)
        for alias in node.names:
            names[f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base].append(alias.name)
        for target, imported in names.items():
            self._add(target, ", ".join(imported), node.lineno)

    def _add(self, target: str, names: str, line: int) -> None:
        if target != ROOT and not target.startswith(f"{ROOT}."):
            self.external.add(target.partition(".")[0])
            return
        while target not in MODULES:
            target = target.rpartition(".")[0]
        if target != self.module:
            where = f"{MODULES[self.module].relative_to(PACKAGE.parent)}:{line}"
            self.imports.append(Import(self.module, target, where, names, self.kind))


COLLECTED = {module: _Collector(module) for module in MODULES}
for _module, _collector in COLLECTED.items():
    _collector.visit(ast.parse(MODULES[_module].read_text(encoding="utf-8")))
IMPORTS = [found for collector in COLLECTED.values() for found in collector.imports]


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in DOMAIN_PACKAGES else None


def test_imports_point_down_the_layers() -> None:
    upward = [
        f"{i.where}: {LAYERS[layer(i.source)]} -> {LAYERS[layer(i.target)]} {i.target} ({i.names}) [{i.kind}]"
        for i in IMPORTS
        if layer(i.source) < layer(i.target)
    ]
    assert not upward, f"{len(upward)} imports go back up the layers:\n" + "\n".join(upward)


def test_no_import_cycles_between_domain_packages() -> None:
    # Transports may cross-reference each other's GraphQL types; the domain under them may not cycle.
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for i in IMPORTS:
        source, target = _package(i.source), _package(i.target)
        if source and target and source != target and TRANSPORT not in (layer(i.source), layer(i.target)):
            edges[source, target].append(f"{i.where} -> {i.target}")
    reach = {package: {t for s, t in edges if s == package} for package in DOMAIN_PACKAGES}
    for _ in DOMAIN_PACKAGES:  # transitive closure: no path is longer than the number of packages
        reach = {package: targets.union(*(reach[t] for t in targets)) for package, targets in reach.items()}
    cycles = sorted({tuple(sorted(p for p in reach if p in reach[q] and q in reach[p])) for q in reach} - {()})
    report = [
        " <-> ".join(c) + ": " + "; ".join(w for (s, t), ws in edges.items() if {s, t} <= {*c} for w in ws)
        for c in cycles
    ]
    assert not cycles, "domain packages importing each other:\n" + "\n".join(report)


def test_auth_is_free_of_web_frameworks() -> None:
    auth = [m for m in COLLECTED if _package(m) == "auth" and layer(m) < TRANSPORT]
    found = {m: sorted(COLLECTED[m].external & FRAMEWORKS) for m in auth if COLLECTED[m].external & FRAMEWORKS}
    assert not found, f"auth/ (outside its GraphQL) imports a web framework: {found}"


def test_repositories_scope_by_tenant_in_one_place() -> None:
    # The registry of tenants and the platform's registered documents (a reference table) are
    # the tables without a tenant_id.
    unscoped = {
        "lms_graphql.tenancy.repository": {"TenantRepository"},
        "lms_graphql.documents.repository": {"PlatformDocumentRepository"},
        # Usage is the platform's record of every tenant (schema lms_usage), read by operators.
        "lms_graphql.administration.usage_repository": {"UsageRepository"},
    }
    found = []
    for module, path in MODULES.items():
        source = path.read_text(encoding="utf-8")
        if "tenant_id == self.tenant_id" in source:
            found.append(f"{path.relative_to(PACKAGE.parent)}: a hand-written tenant filter (use self.in_tenant)")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Repository") and layer(module) == REPOSITORY:
                bases = {ast.unparse(base) for base in node.bases}
                if "TenantScopedRepository" not in bases and node.name not in unscoped.get(module, set()):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {node.name} is not tenant-scoped")
    assert not found, "\n".join(found)


def test_resolvers_call_services_not_repositories() -> None:
    direct = [
        f"{i.where}: {i.target} ({i.names})"
        for i in IMPORTS
        if i.source.rsplit(".", 1)[-1] in {"graphql", "types"}
        and layer(i.target) == REPOSITORY
        and any(name.strip().endswith("Repository") for name in i.names.split(","))
        and not i.source.startswith(f"{ROOT}.kit.")
    ]
    assert not direct, "resolvers reading repositories (call the domain's service):\n" + "\n".join(direct)
