"""deploy/'s alert rules and Grafana dashboard read the metrics cronpilot exposes: every name
they use exists, and promtool (Debian's `prometheus` package, installed by CI) accepts the
rules and their unit tests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from core import metrics

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy/prometheus/cronpilot-rules.yml"
RULE_TESTS = ROOT / "deploy/prometheus/cronpilot-rules.test.yml"
DASHBOARD = ROOT / "deploy/grafana/cronpilot-dashboard.json"
# The series a name in a PromQL expression may refer to: ours, the process's, and Prometheus's
# own `up` for the scrape.
NAMED = re.compile(r"\b((?:cronpilot|process)_[a-z0-9_]+|up)\b")


def exposed_series() -> set[str]:
    """Every series name /metrics can carry, whether or not it has been observed yet."""
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_count", "_sum"),
        "gauge": ("",),
    }
    names = set()
    for family in metrics.REGISTRY.collect():
        for suffix in suffixes.get(family.type, ("",)):
            names.add(family.name + suffix)
    return names


def names_in(expression: str) -> set[str]:
    # Label matchers (names and values) are not metric names.
    return set(NAMED.findall(re.sub(r"\{[^}]*\}", "", expression)))


def dashboard_expressions() -> list[str]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def rule_expressions() -> list[str]:
    document = yaml.safe_load(RULES.read_text())
    return [rule["expr"] for group in document["groups"] for rule in group["rules"]]


def test_every_dashboard_expression_names_an_exposed_metric() -> None:
    known = exposed_series() | {"up"}
    expressions = dashboard_expressions()
    assert expressions
    for expression in expressions:
        named = names_in(expression)
        assert named, expression
        assert named <= known, (expression, named - known)


def test_the_dashboard_shows_what_the_operator_watches() -> None:
    shown = set().union(*(names_in(expression) for expression in dashboard_expressions()))
    assert {
        "cronpilot_runs_total",
        "cronpilot_model_runs_total",
        "cronpilot_fire_lateness_seconds_bucket",
        "cronpilot_deliveries_total",
        "cronpilot_results_owed",
        "cronpilot_llm_request_duration_seconds_bucket",
        "cronpilot_llm_cost_usd_total",
    } <= shown
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert all(panel["datasource"]["uid"] == "${datasource}" for panel in dashboard["panels"])


def test_every_alert_names_an_exposed_metric_and_says_what_it_means() -> None:
    known = exposed_series() | {"up"}
    document = yaml.safe_load(RULES.read_text())
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    assert rules
    for rule in rules:
        named = names_in(rule["expr"])
        assert named, rule["alert"]
        assert named <= known, (rule["alert"], named - known)
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["description"]


def test_the_names_check_sees_a_metric_that_does_not_exist() -> None:
    # The checks above would pass vacuously if nothing were found or everything were known.
    assert names_in('rate(cronpilot_no_such_thing_total{outcome="cronpilot_x"}[5m])') == {
        "cronpilot_no_such_thing_total"
    }
    assert "cronpilot_no_such_thing_total" not in exposed_series()


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_rules_and_their_unit_tests() -> None:
    promtool = shutil.which("promtool")
    assert promtool is not None
    checked = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        [promtool, "test", "rules", RULE_TESTS.name],
        cwd=RULE_TESTS.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
