"""`costctl diff`: matching, changes, catalog-only diffs, git refs, projections, formats, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal

import pytest
from conftest import DATA, ROOT, run_cli

from costctl import api
from costctl.errors import CostctlError
from costctl.report import FORMATS
from costctl.report.schema import DiffDocument

D = DATA / "diff"
BASE, HEAD, USAGE = str(D / "base.yaml"), str(D / "head.yaml"), str(D / "usage.csv")
GOLDEN = ROOT / "tests" / "golden"


def diff_json(*args: str) -> dict:
    result = run_cli("diff", *args, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    doc = json.loads(result.stdout)
    DiffDocument.model_validate(doc)
    return doc


def by_name(doc: dict) -> dict:
    return {c["model_name"]: c for c in doc["changes"]}


def test_added_removed_changed_and_unchanged():
    doc = diff_json(BASE, HEAD)
    changes = by_name(doc)
    assert doc["summary"] == {"changed": 2, "added": 1, "removed": 1, "unchanged": 1}
    assert changes["nano"]["kind"] == "added" and changes["mini"]["kind"] == "removed"
    gpt = changes["gpt-4o"]
    assert gpt["kind"] == "changed"
    # repriced: a new deployment id (LiteLLM hashes the params), matched by model_name + model
    assert gpt["deployment_id"] != gpt["base_deployment_id"]
    assert gpt["fields"]["input_cost_per_token"] == {"old": "0.0000025", "new": "0.000005", "old_source": "default",
                                                     "new_source": "custom"}
    assert "pinned" not in changes  # matched by its declared id, nothing differs
    assert doc["projection"] is None


def test_a_source_only_change_is_a_change():
    """Same price, different source (catalog default -> custom): the next catalog update no
    longer moves it, so reviewers see it."""
    fields = by_name(diff_json(BASE, HEAD))["gpt-4o"]["fields"]
    assert fields["output_cost_per_token"] == {"old": "0.00001", "new": "0.00001", "old_source": "default",
                                               "new_source": "custom"}
    claude = by_name(diff_json(BASE, HEAD))["claude"]["fields"]
    assert claude["input_cost_per_token"]["old_source"] == "custom"
    assert claude["input_cost_per_token"]["new_source"] == "default"


def test_same_config_is_no_change():
    doc = diff_json(BASE, BASE)
    assert doc["changes"] == [] and doc["summary"]["unchanged"] == 4
    assert "no price changes" in doc["headline"]


def test_catalog_only_diff(tmp_path):
    from costctl.catalog.store import bundled_provenance

    prov = bundled_provenance()
    from importlib import resources

    data = json.loads(resources.files("costctl.data").joinpath(prov["file"]).read_bytes())
    data["gpt-4o"]["input_cost_per_token"] = 3e-06
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(data))
    doc = diff_json(BASE, BASE, "--catalog", str(newer), "--base-catalog", "bundled")
    changes = by_name(doc)
    assert list(changes) == ["gpt-4o"]
    assert changes["gpt-4o"]["fields"]["input_cost_per_token"] == {"old": "0.0000025", "new": "0.000003",
                                                                   "old_source": "default", "new_source": "default"}
    assert doc["catalog"]["sha256"] != doc["base_catalog"]["sha256"]


def test_projection_matches_hand_computed_totals():
    result = api.diff(BASE, HEAD, usage=[USAGE])
    p = result.projection
    # r1 gpt-4o 1M input: 2.50 -> 5.00; r2 claude 1000/1000: 0.012 -> 0.018; r4 a cache hit: 0;
    # r5 pinned gpt-4.1 unchanged; r3 went to mini, which HEAD removes; r6 has bad tokens
    pinned = p.groups["pinned"]
    assert pinned.base == pinned.head > 0
    assert p.base == Decimal("2.512") + pinned.base
    assert p.head == Decimal("5.018") + pinned.head
    assert p.delta == Decimal("2.506")
    assert p.rows == 4 and p.rows_read == 6 and p.skipped_by_reason == {"bad-tokens": 1}
    assert p.unroutable_rows == 1 and p.unroutable_base == Decimal("0.00075")
    assert p.window_days == 10  # 2026-11-01 .. 2026-11-10
    assert p.monthly_delta == Decimal("7.518")
    assert [g.model_group for g in p.sorted_groups()][:2] == ["gpt-4o", "claude"]
    assert result.failures == []


def test_headline_names_the_driver():
    doc = diff_json(BASE, HEAD, "--usage", USAGE)
    assert doc["headline"].startswith("costctl diff: +$7.52/month (+99.")
    assert "mostly gpt-4o input price 2.50 → 5.00 per 1M" in doc["headline"]
    assert doc["projection"]["monthly_delta_usd"] == "7.518"
    assert doc["projection"]["unroutable_rows"] == 1


@pytest.mark.parametrize("fmt", sorted(FORMATS["diff"]))
def test_golden(fmt, request):
    result = run_cli("diff", "tests/data/diff/base.yaml", "tests/data/diff/head.yaml", "--usage",
                     "tests/data/diff/usage.csv", "--format", fmt, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    path = GOLDEN / f"diff.{fmt}"
    if request.config.getoption("--update-golden"):
        path.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == path.read_text(encoding="utf-8")


def test_markdown_is_a_stable_pull_request_comment():
    args = ("diff", BASE, HEAD, "--usage", USAGE, "--format", "markdown")
    first, second = run_cli(*args).stdout, run_cli(*args).stdout
    assert first == second
    lines = first.splitlines()
    assert lines[0].startswith("💸 **costctl diff: +$7.52/month")
    assert "<details><summary>Price changes (per 1M tokens)</summary>" in lines
    assert lines[-1] == "<!-- costctl-diff -->"


@pytest.mark.parametrize(("args", "code"), [
    (["--fail-on-increase-pct", "50"], 1),
    (["--fail-on-increase-pct", "150"], 0),
    (["--fail-on-increase-usd", "7"], 1),
    (["--fail-on-increase-usd", "8"], 0),
])
def test_thresholds(args, code):
    result = run_cli("diff", BASE, HEAD, "--usage", USAGE, *args)
    assert result.returncode == code, result.stderr
    if code:
        assert "projected increase" in result.stderr


@pytest.mark.parametrize("args", [
    [BASE, str(D / "missing.yaml")],
    [BASE, HEAD, "--fail-on-increase-pct", "5"],  # a threshold without usage cannot be judged
    [BASE, HEAD, "--usage", str(D / "missing.csv")],
    [BASE, HEAD, "--fail-on-increase-pct", "many"],
    ["git:nope", HEAD],
])
def test_bad_input_exits_2(args):
    result = run_cli("diff", *args)
    assert result.returncode == 2
    assert result.stderr.startswith("costctl: error:") and "Traceback" not in result.stderr


@pytest.fixture
def repo(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    (root / "proxy" / "models").mkdir(parents=True)

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True,
                       capture_output=True)

    git("init", "-q", "-b", "main")
    config = root / "proxy" / "config.yaml"
    config.write_text("include:\n  - models/extra.yaml\n" + (D / "base.yaml").read_text())
    (root / "proxy" / "models" / "extra.yaml").write_text(
        "model_list:\n  - model_name: extra\n    litellm_params: {model: openai/o3}\n")
    git("add", ".")
    git("commit", "-q", "-m", "base")
    config.write_text("include:\n  - models/extra.yaml\n" + (D / "head.yaml").read_text())
    (root / "proxy" / "models" / "extra.yaml").write_text(
        "model_list:\n  - model_name: extra\n    litellm_params: {model: openai/o3, input_cost_per_token: 0.00001}\n")
    return root


def test_git_refs(repo):
    result = run_cli("diff", "git:main:proxy/config.yaml", "proxy/config.yaml", "--format", "json", cwd=repo)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    changes = by_name(doc)
    assert doc["base"] == "git:main:proxy/config.yaml"
    assert changes["gpt-4o"]["kind"] == "changed"
    # the include was read at the ref too
    assert changes["extra"]["fields"]["input_cost_per_token"]["old_source"] == "default"
    assert changes["extra"]["fields"]["input_cost_per_token"]["new_source"] == "custom"
    both = run_cli("diff", "git:main:proxy/config.yaml", "git:HEAD:proxy/config.yaml", "--format", "json", cwd=repo)
    assert json.loads(both.stdout)["changes"] == []


@pytest.mark.parametrize(("spec", "message"), [
    ("git:no-such-branch:proxy/config.yaml", "no such git ref"),
    ("git:main:proxy/gone.yaml", "does not exist at main"),
    ("git:main", "expected git:REF:PATH"),
    # PATH may not leave the repository, even where a file of that name exists on disk
    ("git:HEAD:../outside.yaml", "may not leave it"),
    ("git:main:proxy/../../outside.yaml", "may not leave it"),
])
def test_git_ref_problems_exit_2(repo, spec, message):
    (repo.parent / "outside.yaml").write_text((D / "base.yaml").read_text())
    result = run_cli("diff", spec, "proxy/config.yaml", cwd=repo)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_git_outside_a_repository(tmp_path):
    with pytest.raises(CostctlError, match="not inside a git repository"):
        from costctl.config.git_source import GitConfig

        with GitConfig("git:main:config.yaml", cwd=str(tmp_path)):
            pass


def test_secrets_never_shown(tmp_path):
    secret = "sk-live-abcdefghijklmnopqrstuvwxyz123456"
    config = tmp_path / "c.yaml"
    config.write_text("model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o, "
                      f"api_key: {secret}}}\n")
    for fmt in FORMATS["diff"]:
        result = run_cli("diff", BASE, str(config), "--format", fmt)
        assert secret not in result.stdout + result.stderr
