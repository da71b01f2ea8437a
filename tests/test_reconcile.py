"""`costctl reconcile`: causes, joins, formats, accounting, bad input, options."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import DATA, ROOT, run_cli, run_process
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costctl import api
from costctl.reconcile import Options
from costctl.report import FORMATS

RECON = DATA / "reconcile"
CONFIG = str(RECON / "config.yaml")
CAUSES = str(RECON / "causes.csv")
EXPECTED_CAUSES = {
    "zero-1": "zero-spend", "default-1": "default-price", "cache-1": "cache-not-discounted",
    "unit-1": "unit-error", "unit-2": "unit-error", "other-1": "other", "unknown-1": "unknown-deployment",
}
GOLDEN = ROOT / "tests" / "golden"


def run(*args: str, **kw):
    result = run_cli("reconcile", *args, **kw)
    assert "Traceback" not in result.stderr
    return result


def as_json(*args: str) -> dict:
    result = run(*args, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_every_cause_with_its_exact_request_ids():
    doc = as_json(CONFIG, CAUSES)
    assert {m["request_id"]: m["cause"] for m in doc["mismatches"]} == EXPECTED_CAUSES
    s = doc["summary"]
    assert (s["rows_read"], s["rows_reconciled"], s["rows_skipped"]) == (16, 16, 0)
    assert s["unpriced_rows"] == 1 and s["unpriced_tokens"] == 5500
    # hand-computed: 0.0035 x4 + 0.003 x3 + 0.00021 x2 + 0.0045-row expects 0.003 ... see config comments
    assert Decimal(s["expected_usd"]) == Decimal("0.03642")


def test_join_fallbacks():
    r = api.reconcile(CONFIG, [CAUSES])
    groups = {g.key: g for g in r.outcome.groups}
    # ok-group-only (group with one deployment) and ok-fallback (catalog default) both priced at 0.00021
    assert groups[("mini",)].expected == Decimal("0.00021")
    assert groups[("(none)",)].expected == Decimal("0.00021")


def test_exit_codes():
    assert run(CONFIG, CAUSES).returncode == 1
    clean = RECON / "clean.csv"
    lines = [ln for ln in Path(CAUSES).read_text(encoding="utf-8").splitlines() if not ln.split(",")[0].startswith(
        ("zero-", "default-", "cache-", "unit-", "other-", "unknown-"))]
    clean.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        result = run(CONFIG, str(clean))
        assert result.returncode == 0, result.stdout
    finally:
        clean.unlink()
    assert run(CONFIG, "nope.csv").returncode == 2


def test_tolerance_edges(write):
    header = "request_id,model_id,spend,prompt_tokens,completion_tokens\n"
    path = write("t.csv", header + "a,dep-default,0.0035000009,1000,100\nb,dep-default,0.0035000011,1000,100\n")
    doc = as_json(CONFIG, str(path), "--tolerance-pct", "0")
    assert [m["request_id"] for m in doc["mismatches"]] == ["b"]  # 0.9e-9 within, 1.1e-9 not
    doc = as_json(CONFIG, str(path), "--tolerance-usd", "0", "--tolerance-pct", "0.0001")  # 3.5e-9 allowed
    assert doc["summary"]["mismatched_rows"] == 0


def test_since_until_and_group_by_day_tag_team():
    doc = as_json(CONFIG, CAUSES, "--since", "2026-11-02", "--until", "2026-11-03", "--group-by", "day")
    s = doc["summary"]
    assert s["rows_read"] == 16 and s["skipped_by_reason"] == {"outside-window": 8}
    assert [g["key"] for g in doc["groups"]] == [{"day": "2026-11-02"}]
    tags = as_json(CONFIG, CAUSES, "--group-by", "tag")
    rows = {g["key"]["tag"]: g["rows"] for g in tags["groups"]}
    assert rows == {"app:a": 16, "app:b": 8}  # a row counts in each of its tags
    teams = as_json(CONFIG, CAUSES, "--group-by", "team", "--group-by", "model_group")
    assert all(set(g["key"]) == {"team", "model_group"} for g in teams["groups"])
    assert sum(g["rows"] for g in teams["groups"]) == 16


def _write_formats(tmp_path, rows: int = 300) -> dict[str, str]:
    paths = {}
    gen = [sys.executable, str(ROOT / "benchmarks" / "gen_spend_logs.py"), str(ROOT / "examples" / "config.yaml"),
           "--rows", str(rows), "--fault-rate", "0.03", "--bad-rows", "2"]
    for fmt in ("csv", "jsonl", "json"):
        out = tmp_path / f"logs.{fmt}"
        out.write_text(subprocess.run(gen + ["--format", fmt], capture_output=True, text=True, check=True).stdout)
        paths[fmt] = str(out)
    gz = tmp_path / "logs.csv.gz"
    gz.write_bytes(gzip.compress(Path(paths["csv"]).read_bytes()))
    paths["gz"] = str(gz)
    noext = tmp_path / "logs-export"
    noext.write_bytes(Path(paths["jsonl"]).read_bytes())
    paths["sniffed"] = str(noext)
    return paths


def test_same_records_in_every_format_give_identical_results(tmp_path):
    paths = _write_formats(tmp_path)
    docs = {}
    for name, path in paths.items():
        doc = as_json(str(ROOT / "examples" / "config.yaml"), path)
        for m in doc["mismatches"]:
            m.pop("file")
            m.pop("line")
        for ex in doc["summary"]["skip_examples"]:
            ex.pop("file")
            ex.pop("line")
        doc.pop("inputs")
        docs[name] = doc
    first = docs.pop("csv")
    assert first["summary"]["rows_skipped"] == 2 and first["summary"]["mismatched_rows"] > 0
    for name, doc in docs.items():
        assert doc == first, name


def test_stdin_and_several_files(tmp_path):
    paths = _write_formats(tmp_path, rows=50)
    with open(paths["gz"], "rb") as fh:
        result = subprocess.run([sys.executable, "-m", "costctl", "reconcile", str(ROOT / "examples" / "config.yaml"),
                                 "-", "--format", "json"], stdin=fh, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["summary"]["rows_read"] == 52
    both = as_json(str(ROOT / "examples" / "config.yaml"), paths["csv"], paths["jsonl"])
    assert both["summary"]["rows_read"] == 104 and both["summary"]["duplicate_request_ids"] == 50


def test_stdin_on_the_duckdb_engine_is_spooled_and_gives_the_reference_result(tmp_path):
    """A pipe can be read by DuckDB once spooled to a temporary file: the same report as the
    reference engine, the input still named <stdin>, and the spool gone afterwards."""
    paths = _write_formats(tmp_path, rows=50)
    spool = tmp_path / "tmp"
    spool.mkdir()
    docs = {}
    for engine in ("python", "vectorized"):
        with open(paths["gz"], "rb") as fh:
            result = subprocess.run([sys.executable, "-m", "costctl", "reconcile", str(ROOT / "examples" / "config.yaml"),
                                     "-", "--format", "json", "--engine", engine], stdin=fh, capture_output=True,
                                    text=True, cwd=ROOT, env={**os.environ, "TMPDIR": str(spool)})
        assert result.returncode in (0, 1), result.stderr
        docs[engine] = json.loads(result.stdout)
    assert docs["vectorized"] == docs["python"]
    assert docs["python"]["inputs"] == ["<stdin>"] and docs["python"]["summary"]["rows_read"] == 52
    assert not list(spool.iterdir())


@pytest.mark.parametrize("fmt", sorted(FORMATS["reconcile"]))
def test_golden(fmt, request):
    result = run("examples/config.yaml", "examples/spend_logs.csv", "--format", fmt, "--top", "10")
    assert result.returncode == 1
    path = GOLDEN / f"reconcile.{fmt}"
    if request.config.getoption("--update-golden"):
        path.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == path.read_text(encoding="utf-8"), f"golden reconcile.{fmt} differs"


def test_example_log_shows_every_cause():
    doc = as_json("examples/config.yaml", "examples/spend_logs.csv")
    assert set(doc["summary"]["mismatches_by_cause"]) == {"unknown-deployment", "zero-spend", "default-price",
                                                          "cache-not-discounted", "unit-error", "other"}
    assert doc["summary"]["unpriced_rows"] > 0 and doc["summary"]["rows_skipped"] == 2


def test_mismatches_out_is_jsonl_of_every_mismatch(tmp_path):
    out = tmp_path / "mm.jsonl"
    doc = as_json(CONFIG, CAUSES, "--mismatches-out", str(out), "--top", "2")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(doc["mismatches"]) == 2 and len(rows) == len(EXPECTED_CAUSES)
    assert {r["request_id"]: r["cause"] for r in rows} == EXPECTED_CAUSES
    assert set(rows[0]) == {"request_id", "model_group", "deployment_id", "recorded_usd", "expected_usd",
                            "delta_usd", "cause"}


# -- bad input ------------------------------------------------------------------------------


def test_bad_rows_are_counted_with_lines_and_strict_exits_2(write):
    path = write("bad.csv", "request_id,model_id,spend,prompt_tokens,completion_tokens,metadata,startTime\n"
                 "a,dep-default,0.0035,1000,100,,2026-11-01T00:00:00Z\n"
                 "b,dep-default,0.0035,10.5,100,,\n"
                 "c,dep-default,abc,1000,100,,\n"
                 "d,dep-default,0.0035,1000,100,{oops,\n"
                 "e,dep-default,0.0035,1000,100,,yesterday\n"
                 ",dep-default,0.0035,1000,100,,\n"
                 "a,dep-default,0.0035,1000,100,,\n"
                 "g,dep-default,0.0035,1000\n")
    doc = as_json(CONFIG, str(path), "--group-by", "day")  # timestamps are read when something uses them
    s = doc["summary"]
    assert s["rows_read"] == 8 == s["rows_reconciled"] + s["rows_skipped"]
    assert s["skipped_by_reason"] == {"bad-tokens": 1, "bad-spend": 1, "bad-metadata": 1, "bad-timestamp": 1,
                                      "missing-request-id": 1, "duplicate-request-id": 1, "malformed-row": 1}
    assert [(e["line"], e["reason"]) for e in s["skip_examples"]][:2] == [(3, "bad-tokens"), (4, "bad-spend")]
    strict = run(CONFIG, str(path), "--strict", "--group-by", "day")
    assert strict.returncode == 2 and "--strict: 7 rows skipped" in strict.stderr and strict.stdout == ""


@pytest.mark.parametrize("content, fragment", [
    (b"request_id,spend\na,1\n", "missing required column(s): prompt_tokens, completion_tokens, model_id or"),
    (b"\x00\x01\x02binary\xff\xfe garbage", "not UTF-8"),
    (b'{"not": "a list"}', "expected a JSON list"),
    (b"", "empty file"),
])
def test_unreadable_logs_exit_2(write, content, fragment):
    path = write("in.csv" if not content.startswith(b"{") else "in.json", content)
    result = run(CONFIG, str(path))
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], lines


def test_json_that_is_not_a_list_and_truncated_gzip(write, tmp_path):
    path = write("logs.json", '{"rows": []}')
    result = run(CONFIG, str(path))
    assert result.returncode == 2 and "expected a JSON list" in result.stderr
    data = gzip.compress(Path(CAUSES).read_bytes())
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(data[: len(data) // 2])
    result = run(CONFIG, str(cut))
    assert result.returncode == 2 and "damaged gzip" in result.stderr


def test_map_reads_another_export(write):
    path = write("provider.csv", "id,cost_usd,input,output,deployment\nx,0.0035,1000,100,gpt-4o\n")
    doc = as_json(CONFIG, str(path), "--map", "request_id=id", "--map", "spend=cost_usd", "--map", "prompt_tokens=input",
                  "--map", "completion_tokens=output", "--map", "model_group=deployment")
    assert doc["summary"]["rows_reconciled"] == 1 and doc["summary"]["mismatched_rows"] == 0
    assert run(CONFIG, str(path), "--map", "bogus=id").returncode == 2


def test_progress_bar_is_off_when_not_interactive():
    result = run(CONFIG, CAUSES)
    # stderr is a pipe here: only the one-line summary, no progress bar or escape codes
    assert len(result.stderr.strip().splitlines()) == 1 and "\x1b[" not in result.stderr


# -- the accounting invariant -----------------------------------------------------------------

ROW = st.fixed_dictionaries({
    # no control characters: Python 3.10's csv module cannot write a NUL into a test file
    "request_id": st.one_of(st.sampled_from(["r1", "r2", "r3", ""]),
                            st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=5)),
    "model_id": st.sampled_from(["dep-default", "dep-custom", "dep-unpriced", "nope", ""]),
    "model_group": st.sampled_from(["gpt-4o", "claude", "mini", "", "x"]),
    "spend": st.one_of(st.sampled_from(["0", "0.0035", "abc", "", "1,234.5", "-1"]), st.decimals(allow_nan=True).map(str)),
    "prompt_tokens": st.one_of(st.integers(-5, 300_000).map(str), st.sampled_from(["", "1.5", "x"])),
    "completion_tokens": st.one_of(st.integers(0, 5000).map(str), st.sampled_from(["", "2.0"])),
    "metadata": st.sampled_from(["", "{}", "{bad", '{"usage_object": {"prompt_tokens_details": {"cached_tokens": 3}}}',
                                 "[1]"]),
    "startTime": st.sampled_from(["", "2026-11-01T00:00:00Z", "nonsense", "2026-11-05 10:00:00"]),
})


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, max_size=25), since=st.sampled_from([None, "2026-11-02"]))
def test_rows_read_equals_reconciled_plus_skipped(tmp_path_factory, rows, since):
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["request_id", "model_id", "model_group", "spend", "prompt_tokens",
                                             "completion_tokens", "metadata", "startTime"])
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path_factory.mktemp("prop") / "logs.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    from costctl.usage.record import parse_time

    options = Options(since=parse_time(since) if since else None)
    result = api.reconcile(CONFIG, [str(path)], options=options)
    t = result.outcome.totals
    assert t.rows_read == len(rows)
    assert t.rows_read == t.rows_reconciled + t.rows_skipped
    assert sum(t.skipped_by_reason.values()) == t.rows_skipped
    assert sum(g.rows for g in result.outcome.groups) == t.rows_reconciled


@pytest.mark.parametrize("faults, rate, code", [
    ("", "0", 0),                          # a clean log
    ("other", "0.001", 1),                 # 0.1 % of rows off: caught by the default drift threshold
    ("cache-not-discounted", "0.001", 1),
    ("zero-spend", "0.001", 1),
])
def test_default_thresholds(tmp_path, faults, rate, code):
    log = tmp_path / "logs.csv"
    gen = [sys.executable, str(ROOT / "benchmarks" / "gen_spend_logs.py"), str(ROOT / "examples" / "config.yaml"),
           "--rows", "4000", "--fault-rate", rate, "--faults", faults, "--seed", "11"]
    log.write_text(subprocess.run(gen, capture_output=True, text=True, check=True).stdout)
    result = run("examples/config.yaml", str(log), "--format", "json")
    doc = json.loads(result.stdout)
    assert result.returncode == code, (doc["summary"]["mismatches_by_cause"], doc["failures"])
    if code == 0:
        assert doc["summary"]["mismatched_rows"] == 0


def test_azure_without_base_model_prices_by_the_logged_response_model(write):
    config = write("azure.yaml", """
        model_list:
          - model_name: mini
            litellm_params: {model: azure/my-mini-deployment, api_base: "https://x.openai.azure.com"}
            model_info: {id: az}
    """)
    # gpt-4o-mini-2024-07-18 on azure: 1000 x 1.5e-7 + 10 x 6e-7 (catalog azure/gpt-4o-mini-2024-07-18)
    log = write("az.csv", "request_id,model_id,model_group,model,spend,prompt_tokens,completion_tokens\n"
                "a,az,mini,gpt-4o-mini-2024-07-18,0.000156,1000,10\n"
                "b,az,mini,azure/my-mini-deployment,0.000156,1000,10\n")
    doc = as_json(str(config), str(log))
    s = doc["summary"]
    assert s["rows_reconciled"] == 1 and s["mismatched_rows"] == 0
    # LiteLLM 1.110.2 logs the configured name: the response model is unknown, the row is not guessed at
    assert s["skipped_by_reason"] == {"azure-response-model-unknown": 1}
    assert "base_model" in s["skip_examples"][0]["detail"]


def test_azure_named_like_a_catalog_model_is_priced_as_it(write):
    config = write("azure2.yaml", """
        model_list:
          - model_name: four
            litellm_params: {model: azure/gpt-4o, api_base: "https://x.openai.azure.com"}
            model_info: {id: az4}
    """)
    # azure/gpt-4o: 1000 x 2.5e-6 + 10 x 1e-5
    log = write("az4.csv", "request_id,model_id,model_group,model,spend,prompt_tokens,completion_tokens\n"
                "a,az4,four,azure/gpt-4o,0.00260,1000,10\n")
    s = as_json(str(config), str(log))["summary"]
    assert s["rows_reconciled"] == 1 and s["mismatched_rows"] == 0 and s["rows_skipped"] == 0


def test_location_and_residency_come_from_the_cost_breakdown(write):
    config = write("res.yaml", """
        model_list:
          - model_name: gov
            litellm_params: {model: openai/gpt-4o}
            model_info: {id: gov}
    """)
    meta = json.dumps({"cost_breakdown": {"data_residency": "fedramp"}}).replace('"', '""')
    # gpt-4o 1000 in / 10 out = 0.0026; x 1.1 FedRAMP uplift (catalog fedramp_uplift_multiplier)
    log = write("gov.csv", "request_id,model_id,spend,prompt_tokens,completion_tokens,metadata\n"
                f'a,gov,0.00286,1000,10,"{meta}"\nb,gov,0.0026,1000,10,\n')
    s = as_json(str(config), str(log))["summary"]
    assert s["rows_reconciled"] == 2 and s["mismatched_rows"] == 0


def test_a_named_pipe_is_read_once(tmp_path):
    import os
    import threading

    fifo = tmp_path / "logs.pipe"
    os.mkfifo(fifo)
    data = gzip.compress(Path(CAUSES).read_bytes())

    def feed() -> None:
        with open(fifo, "wb") as fh:
            fh.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        r = api.reconcile(CONFIG, [str(fifo)])
    finally:
        writer.join(timeout=10)
    assert r.outcome.totals.rows_read == 16 and r.outcome.totals.mismatched_rows == len(EXPECTED_CAUSES)


# -- Parquet ------------------------------------------------------------------------------------


def _to_parquet(csv_path: str, out, typed: bool) -> None:
    duckdb = pytest.importorskip("duckdb")
    cast = ("select * replace (cast(spend as double) as spend, cast(prompt_tokens as bigint) as prompt_tokens, "
            "cast(completion_tokens as bigint) as completion_tokens)" if typed else "select *")
    duckdb.connect().execute(f"copy ({cast} from read_csv_auto(?, all_varchar=true)) to '{out}' (format parquet)",
                             [csv_path])


@pytest.mark.parametrize("typed", [False, True])
def test_parquet_gives_the_csv_result(tmp_path, typed):
    out = tmp_path / "logs.parquet"
    # the example without its two malformed rows (DuckDB's CSV reader would reject them itself)
    good = tmp_path / "good.csv"
    good.write_text("\n".join(Path(ROOT / "examples" / "spend_logs.csv").read_text(encoding="utf-8").splitlines()[:-2])
                    + "\n", encoding="utf-8")
    _to_parquet(str(good), out, typed)
    from_csv = as_json("examples/config.yaml", str(good))
    from_parquet = as_json("examples/config.yaml", str(out))
    assert from_parquet["summary"] == from_csv["summary"]
    assert [(m["request_id"], m["cause"]) for m in from_parquet["mismatches"]] == \
        [(m["request_id"], m["cause"]) for m in from_csv["mismatches"]]


@pytest.fixture
def without_duckdb(monkeypatch):
    """Imports of duckdb fail, as on a machine without the `fast` extra."""
    import builtins

    real_import = builtins.__import__

    def no_duckdb(name, *args, **kwargs):
        if name == "duckdb":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_duckdb)


def test_parquet_problems_are_exit_2(write, without_duckdb):
    bad = write("bad.parquet", b"PAR1 this is not parquet")
    result = run_process("reconcile", str(CONFIG), str(bad))  # another process: it has duckdb
    assert result.returncode == 2 and "not a readable Parquet file" in result.stderr
    from costctl.errors import CostctlError

    with pytest.raises(CostctlError, match=r"needs DuckDB, which this installation lacks: pip install duckdb"):
        api.reconcile(CONFIG, [str(bad)])


def test_engine_vectorized_without_duckdb_is_one_clear_line(without_duckdb):
    from costctl.errors import CostctlError

    with pytest.raises(CostctlError, match=r"--engine vectorized needs DuckDB, which this installation lacks: "
                                           r"pip install duckdb"):
        api.reconcile(CONFIG, [CAUSES], engine="vectorized")
    # auto quietly uses the reference engine
    assert api.reconcile(CONFIG, [CAUSES], engine="auto").outcome.totals.rows_read > 0


def test_cli_engine_option(tmp_path):
    for engine in ("python", "vectorized", "auto"):
        doc = as_json(CONFIG, CAUSES, "--engine", engine)
        assert doc["summary"]["mismatches_by_cause"]["zero-spend"] == 1
    bad = run(CONFIG, CAUSES, "--engine", "gpu")
    assert bad.returncode == 2


def test_a_new_source_kind_is_one_registry_entry_and_one_reader(monkeypatch):
    """The plug point a PostgreSQL source will use: a kind that claims its specs, a Source of
    its own format, a reader for that format; the engines need nothing else."""
    import io as _io

    from costctl.usage import readers
    from costctl.usage.record import Skip as _Skip

    rows = [{"request_id": "db-1", "model_id": "dep-default", "spend": "0.0035", "prompt_tokens": "1000",
             "completion_tokens": "100"}, {"request_id": "", "spend": "1", "prompt_tokens": "1",
                                          "completion_tokens": "1", "model_id": "x"}]

    def read_db(source, mapping, on_read):
        for line, row in enumerate(rows, start=1):
            yield line, row if row["request_id"] else _Skip("missing-request-id", "request_id is empty")

    def open_db(spec, forced, settings):
        return readers.Source(spec, "fakedb", False, None, lambda: _io.BytesIO(b""))

    monkeypatch.setattr(readers, "SOURCE_KINDS", [("fakedb", lambda s: s.startswith("fakedb://"), open_db),
                                                  *readers.SOURCE_KINDS])
    monkeypatch.setitem(readers.READERS, "fakedb", read_db)
    result = api.reconcile(CONFIG, ["fakedb://spend"], engine="auto")
    t = result.outcome.totals
    assert (t.rows_read, t.rows_reconciled, t.skipped_by_reason) == (2, 1, {"missing-request-id": 1})
    assert result.inputs == ["fakedb://spend"]
