"""Dependencies point inward (api -> scheduler -> rules, web -> scheduler -> rules); only
config.py reads the environment."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "web", "scheduler", "rules")
TOP_MODULES = ("config", "wsgi")
ENV_ACCESS = frozenset({"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"})
WEB = frozenset({"flask", "flask_smorest", "marshmallow", "webargs", "werkzeug", "apispec"})
# What the HTTP layers (api/, web/) may use of the core: services, its errors, and wiring
# (the engine and unit of work, the log setup and the request-id context). Models, jobs, the
# outbox and migrations are reached through a service function.
CORE_FOR_HTTP = ("scheduler.services", "scheduler.errors", "scheduler.db", "scheduler.log_setup",
                 "scheduler.tracing")
HTTP_LAYERS = frozenset({"api", "web"})


def http_may_import(name: str) -> bool:
    if name == "scheduler":
        return True  # `from scheduler import services` names its target as well
    return any(name == allowed or name.startswith(f"{allowed}.") for allowed in CORE_FOR_HTTP)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Absolute dotted names a module imports (relative imports resolved)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base)
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def reads_environment(tree: ast.AST, source: str) -> bool:
    if "os.environ" in source or "os.getenv" in source:
        return True
    os_aliases = {"os"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            os_aliases |= {a.asname or a.name for a in node.names if a.name == "os"}
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            if any(alias.name in ENV_ACCESS for alias in node.names):
                return True
    return any(
        isinstance(node, ast.Attribute)
        and node.attr in ENV_ACCESS
        and isinstance(node.value, ast.Name)
        and node.value.id in os_aliases
        for node in ast.walk(tree)
    )


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """Every broken dependency rule in one module's source."""
    tree = ast.parse(source)
    top = module.split(".")[0]
    found: list[str] = []
    for name in sorted(set(imports(tree, module, is_package))):
        head = name.split(".")[0]
        if top == "rules" and head not in sys.stdlib_module_names and head != "rules":
            found.append(f"{module}: rules may import only the standard library, not {name}")
        if top == "scheduler" and (head in WEB or head == "api"):
            found.append(f"{module}: scheduler must not import {name}")
        if top in HTTP_LAYERS and (
            head in {"sqlalchemy", "alembic", "rules"}
            or (head == "scheduler" and not http_may_import(name))
        ):
            found.append(f"{module}: {top} must not import {name}")
        if top in HTTP_LAYERS and head in HTTP_LAYERS - {top}:
            found.append(f"{module}: {top} must not import the other HTTP layer ({name})")
    if module != "config" and reads_environment(tree, source):
        found.append(f"{module}: only config.py may read the environment")
    return found


def project_modules() -> Iterator[Path]:
    for package in PACKAGES:
        if (ROOT / package).is_dir():
            yield from sorted((ROOT / package).rglob("*.py"))
    for name in TOP_MODULES:
        if (ROOT / f"{name}.py").exists():
            yield ROOT / f"{name}.py"


def test_every_project_module_respects_the_dependency_rules() -> None:
    modules = list(project_modules())
    assert any(p.parts[-2] == "scheduler" for p in modules), "the walk found no scheduler module"
    problems = [
        problem
        for path in modules
        for problem in violations(
            module_name(path), path.read_text(encoding="utf-8"), path.name == "__init__.py"
        )
    ]
    assert problems == []


def test_the_rules_package_is_checked_when_it_exists() -> None:
    rules = ROOT / "rules"
    if not rules.is_dir():
        pytest.skip("rules/ not written yet")
    assert any(module_name(p).startswith("rules") for p in project_modules())


@pytest.mark.parametrize(
    ("module", "source", "needle"),
    [
        pytest.param("rules.engine", "import sqlalchemy", "standard library", id="rules-orm"),
        pytest.param("rules.engine", "from scheduler import db", "standard library",
                     id="rules-imports-the-core"),
        pytest.param("rules.engine", "import config", "standard library", id="rules-config"),
        pytest.param("scheduler.x", "from flask import g", "scheduler", id="scheduler-flask"),
        pytest.param("scheduler.x", "import marshmallow", "scheduler", id="scheduler-marshmallow"),
        pytest.param("scheduler.x", "from api.auth import scope", "scheduler", id="scheduler-api"),
        pytest.param("api.x", "from sqlalchemy import select", "api", id="api-orm"),
        pytest.param("api.x", "from scheduler.models import Clinic", "api", id="api-models"),
        pytest.param("api.x", "from scheduler import models", "api", id="api-models-from"),
        pytest.param("api.x", "import rules", "api", id="api-rules"),
        pytest.param("api.x", "from scheduler.models.plans import Plan", "api",
                     id="api-models-submodule"),
        pytest.param("api.x", "from scheduler.jobs import heartbeat", "api", id="api-jobs"),
        pytest.param("api.x", "from scheduler.webhooks.outbox import EVENT_TYPES", "api",
                     id="api-outbox"),
        pytest.param("api.x", "from scheduler import migrate", "api", id="api-migrations"),
        pytest.param("web.x", "from scheduler.models import Plan", "web", id="web-models"),
        pytest.param("web.x", "from sqlalchemy import select", "web", id="web-orm"),
        pytest.param("web.x", "from api.plans import bp", "other HTTP layer", id="web-api"),
        pytest.param("api.x", "from web import pages", "other HTTP layer", id="api-web"),
        pytest.param("api.x", "import os\nos.environ['X']", "environment", id="environ"),
        pytest.param("api.x", "import os as o\no.getenv('X')", "environment", id="aliased-getenv"),
        pytest.param("wsgi", "from os import environ", "environment", id="from-os-environ"),
    ],
)
def test_a_forbidden_import_is_reported(module: str, source: str, needle: str) -> None:
    assert any(needle in problem for problem in violations(module, source))


@pytest.mark.parametrize(
    ("module", "source", "is_package"),
    [
        pytest.param("rules.engine", "from .values import Phase", False, id="rules-relative"),
        pytest.param("rules", "from .engine import evaluate", True, id="rules-init-relative"),
        pytest.param("rules.x", "import json, datetime, zoneinfo", False, id="rules-stdlib"),
        pytest.param("api.x", "from scheduler.services import clinics", False, id="api-services"),
        pytest.param("api.x", "from scheduler.errors import NotFound", False, id="api-errors"),
        pytest.param("api.x", "from scheduler.db import UnitOfWork", False, id="api-wiring"),
        pytest.param("web.x", "from scheduler.services.plans import get_plan", False,
                     id="web-services"),
        pytest.param("config", "import os\nos.environ.get('X')", False, id="config-reads-env"),
    ],
)
def test_an_allowed_import_is_not_reported(module: str, source: str, is_package: bool) -> None:
    assert violations(module, source, is_package) == []


def test_unit_tests_do_not_import_the_database_builders() -> None:
    """Unit tests need no database: they build events with tests/unit/rules/builders.py, never
    with tests/builders.py (which writes through the services) or the integration support."""
    unit = ROOT / "tests" / "unit"
    found = [
        f"{module_name(path)} imports {name}"
        for path in sorted(unit.rglob("*.py"))
        for name in imports(ast.parse(path.read_text(encoding="utf-8")), module_name(path),
                            path.name == "__init__.py")
        if name == "tests.builders" or name.startswith(("tests.builders.", "tests.integration"))
    ]
    assert any(p.name == "builders.py" for p in unit.rglob("*.py")), "no unit modules found"
    assert found == []
