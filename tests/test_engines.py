"""The vectorized engine (DuckDB) against the reference engine: identical results, row for row.

Spend logs are generated here from three configs (~110 deployments over ~40 providers: generic,
azure with and without base_model, fallback providers, vertex regions, context tiers, tier
tables, custom, partly custom, string and unmapped prices) with every usage field LiteLLM writes,
every mismatch cause, tolerance edges, and every kind of bad or oddly shaped row the reference
reader handles. Both engines read the same files (CSV, JSONL, Parquet, gzip); the test compares
totals, skip reasons and examples, groups, the top mismatches and every --mismatches-out line.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import random
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, ROOT

from costctl import api
from costctl.catalog.store import load_catalog
from costctl.config import load_config
from costctl.errors import CostctlError
from costctl.pricing import Usage
from costctl.reconcile import Options, Pricer, front
from costctl.reconcile.pricer import ResponseModelUnknown

duckdb = pytest.importorskip("duckdb")

CONFIGS = [DATA / "crosscheck_models.yaml", DATA / "crosscheck_providers.yaml", ROOT / "examples" / "config.yaml",
           DATA / "engines.yaml"]
COLUMNS = ["request_id", "api_key", "spend", "prompt_tokens", "completion_tokens", "startTime", "model", "model_id",
           "model_group", "custom_llm_provider", "user", "metadata", "cache_hit", "request_tags", "team_id", "status"]
START = datetime(2026, 11, 1, tzinfo=timezone.utc)

# Rows the SQL cannot parse in its plain shapes, or that the reference skips: field -> raw text
ODD_VALUES: dict[str, list[str]] = {
    "spend": ["$1,234.50", "1E-5", "-0.5", "", "abc", " 0.25", "1.5e-05", "0", "NaN"],
    "prompt_tokens": ["12.5", "12.0", " 12", "-3", "", "1e3", "x", "99999999999"],
    "completion_tokens": ["7.0", "", "-1", "3 "],
    "request_id": ["", " spaced-id ", "réq-ünïcode"],
    "metadata": ["{not json", "null", "[]", "[1]", "{}", '"text"', "NaN", '{"usage_object": {"prompt_tokens": 5,}}',
                 '{"usage_object": {"prompt_tokens_details": {"cached_tokens": "5"}}}',
                 '{"usage_object": {"prompt_tokens_details": {"cached_tokens": 5.0}}}',
                 '{"usage_object": {"prompt_tokens_details": {"cached_tokens": -4}}}',
                 '{"usage_object": {"prompt_tokens_details": {"cached_tokens": true}}}',
                 '{"usage_object": {"service_tier": 5}, "service_tier": "priority"}',
                 '{"usage_object": "not an object", "service_tier": "flex"}',
                 '{"usage_object": {"completion_tokens_details": {"reasoning_tokens": 99999999999}}}',
                 '{"cost_breakdown": {"vertex_location": 7}}',
                 '{"cost_breakdown": "x", "service_tier": ""}',
                 '{"usage_object": {"service_tier": "pri\\u006frity"}}',
                 ' {"usage_object": {"prompt_tokens_details": {"cached_tokens": 3}}}'],
    "cache_hit": [" TRUE ", "true", "1", "False", "None"],
    "status": ["FAILURE", "failure ", "success", ""],
    "startTime": ["2026-11-01 00:00:00", "2026-11-01T00:00:00.123Z", "2026-11-01T03:00:00+02:00", "2026-11-02",
                  "garbage", "", "2026-13-01T00:00:00Z", "2026-11-01T00:00:00.5Z"],
    "model_id": [" padded ", "gone-deployment"],
    "request_tags": ["not json", "[1, 2]", "{}", " {}", "  ", "[ ]", '"str"', '{"a": 1}', '["ok", null]', "null"],
}
# request_tags of ordinary rows, in turn: none, one, several, repeated, escaped, spaced
TAG_SHAPES = ['["app:x"]', '["app:x", "team:y"]', "", "[]", '["a", "a"]', '["caf\u00e9"]', '["x\\"y"]',
              '[ "sp" , "ace" ]', '["é"]']


def _pricers() -> list[tuple[Path, Pricer]]:
    catalog = load_catalog("bundled")
    return [(path, Pricer(load_config(path), catalog)) for path in CONFIGS]


def _usage(rng: random.Random) -> tuple[Usage, dict[str, Any]]:
    """Usage with every field LiteLLM writes, and the usage_object that carries it."""
    prompt = rng.choice([0, rng.randint(1, 3000), rng.randint(3000, 150_000), rng.randint(150_000, 400_000),
                         128_000, 128_001, 200_000, 200_001])
    cached = rng.choice([0, 0, rng.randint(0, prompt // 2)])
    writes = rng.choice([0, 0, rng.randint(0, (prompt - cached) // 3)])
    completion = rng.randint(0, 5000)
    reasoning = rng.choice([0, 0, rng.randint(0, completion)])
    audio_in = rng.choice([0, 0, 0, rng.randint(0, max(0, prompt - cached - writes))])
    audio_out = rng.choice([0, 0, 0, rng.randint(0, max(0, completion - reasoning))])
    pd: dict[str, Any] = {"cached_tokens": cached}
    if audio_in:
        pd["audio_tokens"] = audio_in
    cd: dict[str, Any] = {"reasoning_tokens": reasoning, "audio_tokens": audio_out}
    uo: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion, "prompt_tokens_details": pd,
                          "completion_tokens_details": cd}
    if rng.random() < 0.25:  # per-modality counts, sometimes overlapping the cached ones
        left = max(0, prompt - cached)
        pd["image_tokens"] = rng.randint(0, left // 3)
        pd["video_tokens"] = rng.choice([0, rng.randint(0, left // 5)])
        pd["text_tokens"] = rng.choice([None, 0, rng.randint(0, left), prompt])
        if cached and rng.random() < 0.5:
            pd["cached_tokens_details"] = {"text_tokens": rng.randint(0, cached), "audio_tokens": rng.randint(0, cached),
                                           "image_tokens": rng.randint(0, cached // 2)}
        cd["image_tokens"] = rng.choice([0, rng.randint(0, completion)])
        cd["video_tokens"] = rng.choice([0, 0, rng.randint(0, completion // 4)])
        cd["text_tokens"] = rng.choice([None, 0, rng.randint(0, completion), completion])
    if rng.random() < 0.2:  # Anthropic's geo and fast-mode surcharges
        uo["inference_geo"] = rng.choice(["us", "global", "eu", "not_available"])
        uo["speed"] = rng.choice(["fast", "standard"])
    style = rng.randrange(4)
    if style == 0:
        uo["cache_creation_input_tokens"] = writes
    elif style == 1:
        pd["cache_creation_tokens"] = writes
    elif style == 2:
        pd["cache_write_tokens"] = writes
    if writes and rng.random() < 0.6:
        one_hour = rng.randint(0, writes)
        ttl = {"ephemeral_1h_input_tokens": one_hour, "ephemeral_5m_input_tokens": writes - one_hour}
        if rng.random() < 0.2:
            ttl["ephemeral_12h_input_tokens"] = 0
        if rng.random() < 0.5:
            pd["cache_creation_token_details"] = ttl
        else:
            uo["cache_creation_token_details"] = ttl
            if rng.random() < 0.5:
                pd["cache_creation_token_details"] = {}
    tier = rng.choice([None, None, None, "priority", "flex", "default"])
    if tier and rng.random() < 0.7:
        uo["service_tier"] = tier
    return Usage(prompt_tokens=prompt, completion_tokens=completion), {"usage_object": uo, "tier": tier}


def generate(rows: int, seed: int) -> tuple[Path, list[dict[str, str]]]:
    """(config, rows as text fields): good rows priced as LiteLLM would, faults of every cause,
    and odd rows."""
    rng = random.Random(seed)
    path, pricer = _pricers()[seed % len(CONFIGS)]
    deployments = list(pricer.by_id.items())
    out: list[dict[str, str]] = []
    for i in range(rows):
        dep_id, priced = rng.choice(deployments)
        group = priced.model_group
        model = priced.configured_models[0] if priced.configured_models else ""
        if priced.price_by_response_model and rng.random() < 0.7:
            model = rng.choice(["gpt-4o-mini-2024-07-18", "gpt-4o-2024-11-20", "gpt-5"])
        elif model.endswith("*"):  # a wildcard serves the models it matches
            model = "openai/" + rng.choice(["gpt-4o", "gpt-4.1-mini", "o3", "not-a-model"])
        _u, parts = _usage(rng)
        metadata: dict[str, Any] = {"usage_object": parts["usage_object"], "user_api_key_alias": f"svc-{i % 7}"}
        if parts["tier"] and "service_tier" not in parts["usage_object"]:
            metadata["cost_breakdown"] = {"service_tier": parts["tier"]}
        location = rng.choice([None, None, "global", "us-central1", "europe-west4"])
        residency = rng.choice([None, None, None, "eu", "us", "fedramp"])
        if location or residency:
            breakdown = metadata.setdefault("cost_breakdown", {})
            if location:
                breakdown["vertex_location"] = location
            if residency:
                breakdown["data_residency"] = residency
        join = rng.random()
        model_id, row_group = dep_id, group
        if join < 0.15:
            model_id = ""
        elif join < 0.2:
            model_id, row_group = "", ""
        elif join < 0.23:
            model_id = hashlib.sha256(f"unknown-{seed}-{i}".encode()).hexdigest()
        provider = priced.provider or ""
        try:
            joined, _unknown = pricer.join(model_id, row_group, model, provider)
            from costctl.usage.record import usage_of

            usage = usage_of(_u.prompt_tokens, _u.completion_tokens, metadata)
            expected = joined.cost(usage, vertex_location=location, data_residency=residency)
        except ResponseModelUnknown:
            joined, usage, expected = None, None, Decimal(0)
        spend = expected
        fault = rng.random()
        if fault < 0.05:
            spend = Decimal(0)
        elif fault < 0.1 and joined is not None and joined.custom and joined.default_entry is not None:
            spend = joined.cost(usage, "default", vertex_location=location, data_residency=residency)
        elif fault < 0.15 and joined is not None and usage is not None and usage.cached_tokens:
            spend = joined.cost(usage, "no-cache-discount", vertex_location=location, data_residency=residency)
        elif fault < 0.2:
            spend = expected * rng.choice([1000, 1_000_000, Decimal("0.001"), Decimal("0.000001")])
        elif fault < 0.25:
            spend = expected * Decimal("1.37")
        elif fault < 0.3:  # tolerance edges: just inside and just outside 0.0001 %
            edge = expected * Decimal("0.000001")
            spend = expected + edge * rng.choice([1, -1, Decimal("1.000001"), Decimal("0.999999")])
        text = rng.choice([str(spend), repr(float(spend)), format(spend, "f")])
        hit, status = rng.choice([("False", "success")] * 8 + [("True", "success"), ("False", "failure")])
        when = START + timedelta(seconds=i * 997)
        out.append({
            "request_id": f"req-{seed}-{i}", "api_key": f"hash-{i % 3}", "spend": text,
            "prompt_tokens": str(_u.prompt_tokens), "completion_tokens": str(_u.completion_tokens),
            "startTime": when.isoformat().replace("+00:00", "Z"), "model": model, "model_id": model_id,
            "model_group": row_group, "custom_llm_provider": provider, "user": rng.choice(["", "u1", "u2"]),
            "metadata": json.dumps(metadata), "cache_hit": hit, "request_tags": TAG_SHAPES[i % len(TAG_SHAPES)],
            "team_id": rng.choice(["", "t1"]), "status": status,
        })
    for field, values in ODD_VALUES.items():
        for value in values:
            row = dict(rng.choice(out))
            row["request_id"] = f"odd-{field}-{values.index(value)}" if field != "request_id" else value
            row[field] = value
            out.insert(rng.randrange(len(out)), row)
    for _ in range(3):  # duplicates: a later copy of an earlier row, possibly with other values
        copy = dict(rng.choice(out))
        copy["spend"] = "0.5"
        out.append(copy)
    return path, out


def write(rows: list[dict[str, str]], folder: Path, fmt: str, name: str = "log") -> Path:
    if fmt in ("csv", "csv.gz"):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
        text += "a,b,c\n"  # a malformed row: 3 fields
        target = folder / f"{name}.{fmt}"
        if fmt == "csv.gz":
            target.write_bytes(gzip.compress(text.encode()))
        else:
            target.write_text(text)
        return target
    if fmt == "jsonl":
        lines = []
        for i, row in enumerate(rows):
            native: dict[str, Any] = dict(row)
            if i % 3 == 0:  # metadata as an object, numbers as numbers (as LiteLLM's /spend/logs writes)
                for key in ("metadata", "request_tags"):
                    try:
                        native[key] = json.loads(row[key])
                    except ValueError:
                        pass
                for key in ("prompt_tokens", "completion_tokens"):
                    if row[key].isdigit():
                        native[key] = int(row[key])
                try:
                    native["spend"] = float(row["spend"])
                except ValueError:
                    pass
            lines.append(json.dumps(native))
            if i % 50 == 7:
                lines.append("")  # blank lines take a line, but are not rows
        lines[5:5] = ["{not json", "[1, 2]", '{"request_id": "trailing",}', "   ",
                      # values the SQL reads from the JSON text: numbers, booleans, escapes
                      '{"request_id": 12345, "spend": "0.5", "prompt_tokens": 10, "completion_tokens": 5, '
                      '"model": "gpt\\u002d4o", "cache_hit": true, "status": "success", '
                      '"metadata": {"usage_object": {"prompt_tokens_details": {"cached_tokens": 2}}}}',
                      '{"request_id": "esc\\"q", "spend": 1e-5, "prompt_tokens": 10, "completion_tokens": 5, '
                      '"metadata": "{\\"usage_object\\": {\\"prompt_tokens\\": 5,\\n}}"}',
                      '{"request_id": "str-meta-tier", "spend": 0.25, "prompt_tokens": 10, "completion_tokens": 5, '
                      '"metadata": "{\\"service_tier\\": \\"flex\\", \\"usage_object\\": {\\"prompt_tokens_details\\": '
                      '{\\"cached_tokens\\": 4}}}"}',
                      '{"request_id": "obj-meta-list", "spend": 0.25, "prompt_tokens": 10, "completion_tokens": 5, '
                      '"metadata": [1, 2], "user": {"id": 1}}']
        target = folder / f"{name}.jsonl"
        target.write_text("\n".join(lines) + "\n")
        return target
    assert fmt == "parquet"
    source = write(rows, folder, "csv", name + "-for-parquet")
    target = folder / f"{name}.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_csv('{source}', all_varchar=true, header=true, quote='\"', escape='\"', "
                f"ignore_errors=true)) TO '{target}' (FORMAT parquet)")
    con.close()
    return target


def outcome(engine: str, config: Path, logs: list[Path], options: Options) -> tuple[Any, str]:
    out = io.StringIO()
    result = api.reconcile(config, [str(p) for p in logs], options=options, engine=engine, mismatches_out=out)
    return result, out.getvalue()


def assert_agree(config: Path, logs: list[Path], options: Options) -> Any:
    ref, ref_out = outcome("python", config, logs, options)
    vec, vec_out = outcome("vectorized", config, logs, options)
    a, b = ref.outcome, vec.outcome
    assert asdict(b.totals) == asdict(a.totals)
    assert [asdict(g) for g in b.groups] == [asdict(g) for g in a.groups]
    assert [asdict(m) for m in b.top] == [asdict(m) for m in a.top]
    assert vec_out == ref_out
    assert vec.failures == ref.failures
    return a


OPTION_SETS = [
    Options(),
    Options(group_by=("provider", "deployment", "model", "tag"), top=500),
    Options(group_by=("day", "team", "api_key", "user"), tolerance_usd=Decimal(0), tolerance_pct=Decimal(0)),
    Options(since=START + timedelta(days=1), until=START + timedelta(days=9), group_by=("model_group", "day"),
            tolerance_pct=Decimal("0.01"), top=3),
]


# every seed through the two text scans; gzip and Parquet differ from them only in reading
@pytest.mark.parametrize(("fmt", "seed"), [(fmt, seed) for fmt in ("csv", "jsonl") for seed in (0, 1, 2, 3)]
                         + [(fmt, seed) for fmt in ("csv.gz", "parquet") for seed in (1, 2)])
def test_engines_agree(tmp_path: Path, fmt: str, seed: int) -> None:
    if fmt == "csv.gz" and int(duckdb.__version__.split(".")[0]) < 2:
        pytest.skip("DuckDB 1.x: gzip goes to the reference engine (a truncated file is not reported)")
    config, rows = generate(700, seed)
    log = write(rows, tmp_path, fmt)
    results = [assert_agree(config, [log], options) for options in OPTION_SETS]
    assert all(result.totals.rows_read >= len(rows) for result in results)
    causes = results[0].totals.mismatches_by_cause  # OPTION_SETS[0] is Options()
    assert {"zero-spend", "unit-error", "other", "unknown-deployment"} <= set(causes), causes


def test_engines_agree_on_several_files_with_duplicates_across_them(tmp_path: Path) -> None:
    config, rows = generate(300, 11)
    first = write(rows[:200], tmp_path, "csv", "a")
    second = write(rows[150:], tmp_path, "jsonl", "b")
    totals = assert_agree(config, [first, second], Options(group_by=("model_group", "provider"))).totals
    assert totals.duplicate_request_ids >= 40


def test_every_cause_and_skip_reason_is_covered(tmp_path: Path) -> None:
    """The generated data exercises what the differential tests claim to cover."""
    seen_causes: set[str] = set()
    seen_skips: set[str] = set()
    for seed in (0, 1, 2, 3):
        config, rows = generate(700, seed)
        for fmt in ("csv", "jsonl"):
            log = write(rows, tmp_path, fmt, f"{seed}")
            for options in (Options(), OPTION_SETS[3]):
                totals = outcome("python", config, [log], options)[0].outcome.totals
                seen_causes |= set(totals.mismatches_by_cause)
                seen_skips |= set(totals.skipped_by_reason)
    assert seen_causes == {"unknown-deployment", "zero-spend", "default-price", "cache-not-discounted", "unit-error",
                           "other"}
    assert {"bad-spend", "missing-spend", "bad-tokens", "missing-tokens", "missing-request-id", "bad-metadata",
            "malformed-row", "bad-json-line", "duplicate-request-id", "bad-timestamp", "missing-timestamp",
            "outside-window", "azure-response-model-unknown"} <= seen_skips, seen_skips


def test_the_example_log(tmp_path: Path) -> None:
    assert_agree(ROOT / "examples" / "config.yaml", [ROOT / "examples" / "spend_logs.csv"], Options())


def test_auto_picks_the_reference_for_what_the_vectorized_engine_does_not_read(tmp_path: Path) -> None:
    config, rows = generate(50, 5)
    doc = json.dumps([{k: v for k, v in row.items()} for row in rows])
    listed = tmp_path / "list.json"
    listed.write_text(doc)
    with pytest.raises(CostctlError, match="JSON"):
        api.reconcile(config, [str(listed)], engine="vectorized")
    # auto: small files and JSON lists go to the reference engine, with the same result
    assert api.reconcile(config, [str(listed)], engine="auto").outcome.totals.rows_read == len(rows)


def test_a_spend_with_more_digits_than_the_sql_type_falls_back_exactly(tmp_path: Path) -> None:
    config, rows = generate(40, 6)
    good = next(r for r in rows if r["request_id"].startswith("req-") and r["metadata"].startswith("{"))
    good["spend"] = "0.1234567890123456789012345678"  # 28 decimals: beyond DECIMAL(38,24)
    log = write(rows, tmp_path, "csv")
    with pytest.raises(CostctlError, match="vectorized cannot reconcile this input exactly"):
        api.reconcile(config, [str(log)], engine="vectorized")
    ref = api.reconcile(config, [str(log)], engine="python").outcome
    api_min = front.AUTO_MIN_BYTES
    try:
        front.AUTO_MIN_BYTES = 0
        auto = api.reconcile(config, [str(log)], engine="auto").outcome
    finally:
        front.AUTO_MIN_BYTES = api_min
    assert asdict(auto.totals) == asdict(ref.totals)


def test_engines_agree_with_renamed_columns(tmp_path: Path) -> None:
    config, rows = generate(200, 7)
    renamed = [{("cost_usd" if k == "spend" else "input_tokens" if k == "prompt_tokens" else k): v
                for k, v in row.items()} for row in rows]
    columns = ["cost_usd" if c == "spend" else "input_tokens" if c == "prompt_tokens" else c for c in COLUMNS]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(renamed)
    log = tmp_path / "other.csv"
    log.write_text(buffer.getvalue())
    jsonl = tmp_path / "other.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in renamed))
    mapping = {"spend": "cost_usd", "prompt_tokens": "input_tokens"}
    for path in (log, jsonl):
        results = []
        for engine in ("python", "vectorized"):
            out = io.StringIO()
            res = api.reconcile(config, [str(path)], engine=engine, mapping=mapping, mismatches_out=out)
            results.append((asdict(res.outcome.totals), [asdict(g) for g in res.outcome.groups], out.getvalue()))
        assert results[0] == results[1]
        assert results[0][0]["rows_reconciled"] > 150


@pytest.mark.parametrize("case", ["truncated-gzip", "binary", "missing-columns", "header-only", "empty"])
def test_bad_files_with_the_vectorized_engine(tmp_path: Path, case: str) -> None:
    config, rows = generate(300, 8)
    log = write(rows, tmp_path, "csv")
    if case == "truncated-gzip":
        data = gzip.compress(log.read_bytes())
        log = tmp_path / "cut.csv.gz"
        log.write_bytes(data[: len(data) // 2])
    elif case == "binary":
        log.write_bytes(bytes(range(256)) * 100)
    elif case == "missing-columns":
        log.write_text("request_id,spend\nr1,0.5\n")
    elif case == "header-only":
        log.write_text(",".join(COLUMNS) + "\n")
    else:
        log.write_text("")
    outcomes = []
    for engine in ("python", "vectorized"):
        try:
            outcomes.append(asdict(api.reconcile(config, [str(log)], engine=engine).outcome.totals))
        except CostctlError as exc:
            outcomes.append(type(exc).__name__)
    if case == "header-only":
        assert outcomes[0] == outcomes[1] and outcomes[0]["rows_read"] == 0
    else:  # both refuse the file (exit 2); the vectorized engine never returns a partial result
        assert outcomes == ["CostctlError", "CostctlError"]


def test_the_formula_renders_for_postgres_too() -> None:
    """The push-down issue runs the same expressions in PostgreSQL: nothing DuckDB-only in them."""
    from costctl.reconcile import sql

    tol = sql.Tolerance.of(Decimal("1e-9"), Decimal("0.0001"))
    text = sql.cost("eff") + sql.cause(tol, sql.POSTGRES, cost_def=sql.cost("def"), cost_nc=sql.cost("nc"))
    assert "DOUBLE PRECISION" in text and "NUMERIC" in text and "DECIMAL(38" not in text
    assert "AS DOUBLE)" not in text
    duck = sql.cause(tol, sql.DUCKDB, rec="v.spend", exp="v.expected", cost_def=sql.cost("def", "v", "v"),
                     cost_nc=sql.cost("nc", "v", "v"), has_default="v.has_default", cached="v.cached",
                     unknown="v.unknown")
    con = duckdb.connect()  # and the DuckDB rendering is valid SQL over such a row
    rates = ", ".join(f"CAST(0.000001 AS DECIMAL(38,24)) AS {sql.rate_column(p, r)}" for p in sql.PLANS for r in sql.RATES)
    tokens = ", ".join(f"CAST(10 AS BIGINT) AS {t}" for t in sql.TOKENS)
    row = con.execute(f"SELECT {duck} FROM (SELECT {tokens}, CAST(0.5 AS DECIMAL(38,24)) AS spend, "
                      f"CAST(0.0001 AS DECIMAL(38,24)) AS expected, true AS has_default, false AS unknown, {rates}) "
                      "AS v").fetchone()
    assert row == ("other",)


def _head_config(config: Path, folder: Path) -> Path:
    """HEAD for a diff of `config`: every 5th deployment removed, every 3rd repriced, one added,
    the discounts changed."""
    import copy

    import yaml

    doc = yaml.safe_load(config.read_text())
    head = []
    for i, model in enumerate(doc["model_list"]):
        if i % 5 == 1:
            continue
        model = copy.deepcopy(model)
        if i % 3 == 0:
            model["litellm_params"].update(input_cost_per_token=0.0000042, output_cost_per_token="1.3e-5")
        head.append(model)
    head.append({"model_name": "added", "litellm_params": {"model": "openai/gpt-4.1-nano"}})
    doc["model_list"] = head
    doc["litellm_settings"] = {**(doc.get("litellm_settings") or {}),
                               "cost_discount_config": {"openai": 0.2, "anthropic/claude-*": 0.1}}
    for included in doc.get("include") or ():  # next to HEAD, as next to the config
        (folder / included).write_text((config.parent / included).read_text())
    path = folder / "head.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_diff_projections_agree(tmp_path: Path, fmt: str, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """`costctl diff --usage` prices large files with the vectorized engine: the same projection."""
    from costctl.diff.sql_projection import VectorizedProjector

    config, rows = generate(600, seed)
    log = write(rows, tmp_path, fmt)
    head = _head_config(config, tmp_path)
    monkeypatch.setattr(front, "AUTO_MIN_BYTES", 10**18)
    reference = api.diff(str(config), str(head), usage=[str(log)]).projection
    ran: list[Any] = []
    project = VectorizedProjector.project
    monkeypatch.setattr(VectorizedProjector, "project", lambda self, sources: ran.append(project(self, sources))
                        or ran[-1])
    monkeypatch.setattr(front, "AUTO_MIN_BYTES", 0)
    vectorized = api.diff(str(config), str(head), usage=[str(log)]).projection
    assert ran and vectorized is ran[0]  # not a fallback to the reference
    assert reference is not None and reference.rows and reference.unroutable_rows and reference.skipped_by_reason
    assert reference.base != reference.head
    assert vectorized == reference


@pytest.mark.parametrize("seed", [0, 1])
def test_diff_projections_agree_within_a_window(tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """--since/--until choose the usage rows in both projections: the rest are outside-window."""
    config, rows = generate(600, seed)
    log = write(rows, tmp_path, "csv")
    head = _head_config(config, tmp_path)
    window = {"since": START + timedelta(days=1), "until": START + timedelta(days=4)}
    monkeypatch.setattr(front, "AUTO_MIN_BYTES", 10**18)
    reference = api.diff(str(config), str(head), usage=[str(log)], **window).projection
    from costctl.diff.sql_projection import VectorizedProjector

    ran: list[Any] = []
    project = VectorizedProjector.project
    monkeypatch.setattr(VectorizedProjector, "project", lambda self, sources: ran.append(project(self, sources))
                        or ran[-1])
    monkeypatch.setattr(front, "AUTO_MIN_BYTES", 0)
    vectorized = api.diff(str(config), str(head), usage=[str(log)], **window).projection
    assert ran and vectorized is ran[0]  # not a fallback to the reference
    whole = api.diff(str(config), str(head), usage=[str(log)]).projection
    assert reference is not None and whole is not None
    assert reference.skipped_by_reason.get("outside-window", 0) > 0 and 0 < reference.rows < whole.rows
    assert vectorized == reference
