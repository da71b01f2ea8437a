"""LiteLLM's PostgreSQL as a source, against a real server holding LiteLLM's own LiteLLM_SpendLogs
(tests/pg.py): the same rows give the same report from the database as from its CSV export,
through every engine; bad connections, tables and rows are one line or a named skip."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pg
import pytest
from conftest import EXAMPLES, run_cli

CONFIG = str(EXAMPLES / "config.yaml")
LOG = EXAMPLES / "spend_logs.csv"


@pytest.fixture(scope="session")
def pg_server():
    reason = pg.why_not()
    if reason:
        if os.environ.get("COSTCTL_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    server = pg.Server()
    try:
        server.template()
        yield server
    finally:
        server.stop()


@pytest.fixture
def db(pg_server) -> str:
    """A fresh database with LiteLLM's empty tables: its URI (password included)."""
    return pg_server.fresh()


@pytest.fixture
def loaded(db, tmp_path) -> tuple[str, Path]:
    """The example log loaded into LiteLLM_SpendLogs, and the table exported as users do today."""
    assert pg.load_csv(db, LOG) == 600
    export = tmp_path / "export.csv"
    pg.export_csv(db, export)
    return db, export


def report(*args: str) -> dict:
    result = run_cli(*args, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def comparable(doc: dict) -> dict:
    """A report without what names the input: the source's name, and a row's place in it (a CSV
    line is the row number + 1, for the header)."""
    doc = copy.deepcopy(doc)
    doc.pop("inputs", None)
    for m in doc.get("mismatches", []):
        m.pop("file", None), m.pop("line", None)
    summary = dict(doc["summary"])
    summary.pop("skip_examples", None)
    doc["summary"] = summary
    return doc


# python: the cursor; vectorized: pushdown (no fallback); auto: copied out as JSON lines
ENGINES = ["python", "vectorized", "auto"]
GROUPINGS = [("model_group", "day"), ("deployment", "tag"), ("user", "team", "api_key", "provider")]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("groups", GROUPINGS)
def test_reconcile_from_the_database_equals_its_csv_export(loaded, engine, groups):
    uri, export = loaded
    grouping = [arg for g in groups for arg in ("--group-by", g)]
    from_db = report("reconcile", CONFIG, uri, "--engine", engine, *grouping)
    from_csv = report("reconcile", CONFIG, str(export), "--engine", "python", *grouping)
    assert from_db["summary"]["rows_read"] == 600 and from_db["summary"]["mismatched_rows"] > 0
    assert comparable(from_db) == comparable(from_csv)
    lines = [(m["line"]) for m in from_db["mismatches"]]
    assert lines == [m["line"] - 1 for m in from_csv["mismatches"]]  # row n is CSV line n + 1 (one line each)


def test_the_window_is_a_range_on_start_time(loaded):
    uri, export = loaded
    window = ("--since", "2026-11-02", "--until", "2026-11-04")
    from_db = report("reconcile", CONFIG, uri, *window)
    from_csv = report("reconcile", CONFIG, str(export), *window)
    # rows outside the window are not read from the database; the file's are read and skipped
    assert from_db["summary"]["rows_read"] == from_csv["summary"]["rows_reconciled"] > 0
    assert from_db["summary"]["rows_skipped"] == 0
    assert from_db["summary"]["expected_usd"] == from_csv["summary"]["expected_usd"]


def test_diff_usage_from_the_database_equals_its_csv_export(loaded):
    uri, export = loaded
    args = ("diff", CONFIG, str(EXAMPLES / "clean.yaml"))
    from_db, from_csv = report(*args, "--usage", uri), report(*args, "--usage", str(export))
    from_db.pop("usage"), from_csv.pop("usage")
    assert from_db["projection"]["rows_read"] == 600 and from_db == from_csv
    window = ("--since", "2026-11-02", "--until", "2026-11-04")
    a, b = report(*args, "--usage", uri, *window)["projection"], report(*args, "--usage", str(export), *window)["projection"]
    assert b["skipped_by_reason"]["outside-window"] > 0 and "outside-window" not in a.get("skipped_by_reason", {})
    for key in ("rows", "base_usd", "head_usd", "delta_usd", "groups", "first_day", "last_day"):
        assert a[key] == b[key], key


def test_the_password_never_appears(pg_server, loaded):
    uri, _ = loaded
    for args in (("reconcile", CONFIG, uri, "--format", "json"), ("reconcile", CONFIG, uri, "--table", "nope"),
                 ("reconcile", CONFIG, uri.replace(pg_server.password, "wrong-pw"))):
        result = run_cli(*args)
        assert pg_server.password not in result.stdout + result.stderr
        assert "wrong-pw" not in result.stdout + result.stderr
    assert json.loads(run_cli("reconcile", CONFIG, uri, "--format", "json").stdout)["inputs"] == [
        f"postgresql://costctl@127.0.0.1:{pg_server.port}/{uri.rsplit('/', 1)[1]}#LiteLLM_SpendLogs"]


def one_error_line(result, *parts: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("costctl: error: "), result.stderr
    for part in parts:
        assert part in lines[0], (part, lines[0])


def test_connection_and_table_errors_are_one_line(pg_server, db):
    one_error_line(run_cli("reconcile", CONFIG, db.replace(pg_server.password, "wrong-pw")),
                   "cannot connect", "password authentication failed")
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    one_error_line(run_cli("reconcile", CONFIG, f"postgresql://costctl@127.0.0.1:{closed}/x"),
                   "cannot connect", "refused")
    one_error_line(run_cli("reconcile", CONFIG, db, "--table", "nope"), 'no table "nope"')
    one_error_line(run_cli("reconcile", CONFIG, db, "--table", "a;drop"), "expected a table name")
    pg_server.execute(db.rsplit("/", 1)[1], 'CREATE TABLE public.few (request_id text, "startTime" timestamp)',
                      "CREATE ROLE reader LOGIN PASSWORD 'r-pw'", 'CREATE TABLE secret (LIKE "LiteLLM_SpendLogs")')
    one_error_line(run_cli("reconcile", CONFIG, db, "--table", "public.few"), "missing required column(s): spend",
                   "found: request_id, startTime")
    reader = db.replace(f"costctl:{pg_server.password}", "reader:r-pw")
    one_error_line(run_cli("reconcile", CONFIG, reader, "--table", "secret"), "permission denied for table secret")
    one_error_line(run_cli("reconcile", CONFIG, db, "--input-format", "csv"), "--input-format is for files")


def test_a_slow_query_stops_at_the_statement_timeout(pg_server, db):
    pg_server.execute(db.rsplit("/", 1)[1], 'INSERT INTO "LiteLLM_SpendLogs" (request_id, call_type, "startTime", '
                      "\"endTime\") VALUES ('a', 'x', now(), now())",
                      'CREATE VIEW slow AS SELECT * FROM "LiteLLM_SpendLogs" WHERE pg_sleep(5)::text = \'\'')
    for engine in ENGINES:
        one_error_line(run_cli("reconcile", CONFIG, db, "--table", "slow", "--statement-timeout", "0.2",
                               "--engine", engine), "statement timeout")


def test_odd_rows_are_named_skips_not_errors(pg_server, db):
    name = db.rsplit("/", 1)[1]
    base = ("INSERT INTO \"LiteLLM_SpendLogs\" (request_id, call_type, spend, prompt_tokens, completion_tokens, "
            "\"startTime\", \"endTime\", model, model_group, metadata) VALUES ")
    pg_server.execute(name, "ALTER TABLE \"LiteLLM_SpendLogs\" ALTER prompt_tokens DROP NOT NULL",
                      base + "('ok', 'x', 0.00001, 10, 5, now(), now(), 'gpt-4o', 'gpt-4o', '{}'),"
                      "('nan', 'x', 'NaN', 10, 5, now(), now(), 'gpt-4o', 'gpt-4o', '{}'),"
                      "('inf', 'x', 'Infinity', 10, 5, now(), now(), 'gpt-4o', 'gpt-4o', '{}'),"
                      "('null-tokens', 'x', 0.1, NULL, 5, now(), now(), 'gpt-4o', 'gpt-4o', '{}'),"
                      "('list-meta', 'x', 0.1, 10, 5, now(), now(), 'gpt-4o', 'gpt-4o', '[1]'),"
                      "('null-meta', 'x', 0.00001, 10, 5, now(), now(), 'gpt-4o', 'gpt-4o', NULL),"
                      "('string-meta', 'x', 0.1, 10, 5, now(), now(), 'gpt-4o', 'gpt-4o', '\"x\"')")
    reports = [report("reconcile", CONFIG, db, "--engine", engine) for engine in ENGINES]
    s = reports[0]["summary"]
    assert s["rows_read"] == 7 and s["rows_reconciled"] + s["rows_skipped"] == 7, s
    assert set(s["skipped_by_reason"]) >= {"bad-spend"}, s
    assert reports[0] == reports[1] == reports[2]


def test_rows_are_copied_out_as_csv_unless_a_value_breaks_a_line(pg_server, loaded, tmp_path, monkeypatch):
    """The default route copies the rows out as CSV (row n on line n + 1), read by either file
    engine, or as JSON lines when a value holds a line break: the same report as the cursor,
    each row's place included."""
    from costctl.reconcile import front
    from costctl.usage import postgres
    from costctl.usage.record import REQUIRED

    db, _export = loaded

    def copied_as() -> str:
        return postgres.copy_rows(db, "db", postgres.Settings(), {}, lambda found: None, str(tmp_path / "c"))[1]

    def routes() -> list[dict]:
        docs = [report("reconcile", CONFIG, db, "--engine", "python", "--top", "1000")]
        docs.append(report("reconcile", CONFIG, db, "--top", "1000"))  # small: the reference reads the copy
        monkeypatch.setattr(front, "AUTO_MIN_BYTES", 0)  # DuckDB reads the copy
        docs.append(report("reconcile", CONFIG, db, "--top", "1000"))
        monkeypatch.undo()
        return docs

    assert copied_as() == "csv" and set(REQUIRED) <= set((tmp_path / "c").read_text().splitlines()[0].split(","))
    cursor, small, big = routes()
    assert cursor["mismatches"] and cursor == small == big  # places included
    pg_server.execute(db.rsplit("/", 1)[1], "UPDATE \"LiteLLM_SpendLogs\" SET \"user\" = E'two\\nlines' "
                      "WHERE request_id = (SELECT min(request_id) FROM \"LiteLLM_SpendLogs\")")
    assert copied_as() == "jsonl"
    cursor, small, big = routes()
    assert cursor == small == big


# -- without a server ----------------------------------------------------------------------------

def test_without_psycopg_a_database_is_one_line(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)
    one_error_line(run_cli("reconcile", CONFIG, "postgresql://u:pw@127.0.0.1:1/db"), "needs psycopg",
                   "costctl[postgres]", "postgresql://u@127.0.0.1:1/db")


def test_uris_are_shown_without_their_password_and_tables_are_identifiers():
    from costctl.errors import CostctlError
    from costctl.usage.postgres import shown_uri, table_sql

    assert shown_uri("postgresql://u:s3cret@h:5/db?sslmode=require&password=x") == "postgresql://u@h:5/db?sslmode=require"
    assert shown_uri("postgres://h/db") == "postgres://h/db"
    assert table_sql("LiteLLM_SpendLogs") == table_sql('"LiteLLM_SpendLogs"') == '"LiteLLM_SpendLogs"'
    assert table_sql('litellm."LiteLLM_SpendLogs"') == '"litellm"."LiteLLM_SpendLogs"'
    for bad in ("a;drop table x", "a.b.c", "", '"unclosed', "a b"):
        with pytest.raises(CostctlError):
            table_sql(bad)


# -- the differential suite, extended to the database ---------------------------------------------

def _without_place(mismatches_out: str) -> list[dict]:
    rows = [json.loads(line) for line in mismatches_out.splitlines()]
    for row in rows:
        row.pop("file", None), row.pop("line", None)
    return rows


def _run(config, spec: str, engine: str, options):
    import io

    from costctl import api

    out = io.StringIO()
    result = api.reconcile(config, [spec], options=options, engine=engine, mismatches_out=out)
    return result, out.getvalue()


@pytest.mark.parametrize("seed", [0, 1])
def test_generated_rows_agree_through_every_route(pg_server, tmp_path, seed, monkeypatch):
    """The differential suite's rows (faults of every cause, odd values) as LiteLLM's table holds
    them: pushdown and the reference over the cursor agree exactly (places included); and with
    the table's CSV export through the reference and DuckDB, all but the place of a row."""
    from dataclasses import asdict

    from test_engines import OPTION_SETS, generate, write

    from costctl.reconcile import front

    config, rows = generate(700, seed)
    uri = pg_server.fresh()
    loaded = pg.load_csv(uri, write(rows, tmp_path, "csv"))
    assert loaded > 500
    export = tmp_path / "export.csv"
    pg.export_csv(uri, export)
    for options in OPTION_SETS:
        (push, push_out), (ref, ref_out) = _run(config, uri, "vectorized", options), _run(config, uri, "python", options)
        a, b = ref.outcome, push.outcome
        assert asdict(b.totals) == asdict(a.totals)
        assert [asdict(g) for g in b.groups] == [asdict(g) for g in a.groups]
        assert [asdict(m) for m in b.top] == [asdict(m) for m in a.top]
        assert push_out == ref_out and push.failures == ref.failures
        monkeypatch.setattr(front, "AUTO_MIN_BYTES", 0)  # the copied-out rows through DuckDB
        copied, copied_out = _run(config, uri, "auto", options)
        monkeypatch.undo()
        c = copied.outcome
        assert asdict(c.totals) == asdict(a.totals)
        assert [asdict(g) for g in c.groups] == [asdict(g) for g in a.groups]
        assert [asdict(m) for m in c.top] == [asdict(m) for m in a.top]
        assert copied_out == ref_out and copied.failures == ref.failures
        assert a.totals.rows_read == (loaded if not options.windowed else a.totals.rows_read)
        for engine in ("python", "vectorized"):
            file, file_out = _run(config, str(export), engine, options)
            f = file.outcome
            if not options.windowed:  # the database reads only the window; the file skips the rest
                ta, tf = asdict(a.totals), asdict(f.totals)
                ta.pop("skip_examples"), tf.pop("skip_examples")
                assert ta == tf
            assert [asdict(g) for g in f.groups] == [asdict(g) for g in a.groups]
            # (a row's place differs: a CSV record may span lines)
            assert [(m.request_id, m.recorded, m.expected, m.cause) for m in a.top] == \
                [(m.request_id, m.recorded, m.expected, m.cause) for m in f.top]
            assert _without_place(file_out) == _without_place(ref_out)
