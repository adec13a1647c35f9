"""deploy/: the alert rules pass promtool (check and unit tests) and, like the dashboard, name
only metrics the service exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from scheduler.metrics import SchedulerState, _SchedulerCollector

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "cadence-alerts.yml"
NAME = re.compile(r"\bcadence_[a-z_]+")
SUFFIXES = ("_total", "_bucket", "_count", "_sum")
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian: prometheus) "
                                    "is not installed; .ci/run installs it")


@needs_promtool
def test_promtool_checks_the_alert_rules() -> None:
    done = subprocess.run([PROMTOOL, "check", "rules", str(RULES)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 5 rules found" in done.stdout


@needs_promtool
def test_each_alert_fires_on_its_condition_and_not_before() -> None:
    done = subprocess.run([PROMTOOL, "test", "rules", RULES.with_suffix(".test.yml").name],
                          cwd=RULES.parent, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def exported(client, make_headers) -> set[str]:  # type: ignore[no-untyped-def]
    text = client.get("/metrics", headers=make_headers("monitoring")).get_data(as_text=True)
    names = {f.name for f in text_string_to_metric_families(text)}
    names |= {f.name for f in _SchedulerCollector(SchedulerState("x")).collect()}
    return names


def test_the_rules_and_dashboard_name_only_exported_metrics(client, make_headers) -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "cadence-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {family(n) for n in NAME.findall(RULES.read_text() + "\n".join(exprs))}
    assert len(used) >= 15
    assert used - exported(client, make_headers) == set()
