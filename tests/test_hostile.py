"""Hostile input, class by class: each gives one clear line and exit 2, or a named skip, in
bounded memory; never a traceback, an internal error or a wrong "clean"."""

from __future__ import annotations

import gzip
import json
import resource
import subprocess
import sys

import pytest
from conftest import DATA, ROOT, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costctl.usage import readers

CONFIG = str(DATA / "reconcile" / "config.yaml")
HEADER = "request_id,spend,prompt_tokens,completion_tokens,model\n"
ROW = '{"request_id": "%s", "spend": "0.1", "prompt_tokens": 10, "completion_tokens": 5, "model": "gpt-4o"}'


def one_error_line(result: subprocess.CompletedProcess, *fragments: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout[:300], result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("costctl: error: "), lines
    assert "internal error" not in lines[0] and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def summary(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)["summary"]


# -- spend logs: every record bounded -----------------------------------------------------------

def test_a_jsonl_line_over_the_limit_is_a_named_skip(write, monkeypatch):
    monkeypatch.setattr(readers, "MAX_RECORD_CHARS", 1000)
    log = write("log.jsonl", "\n".join([ROW % "a", '{"request_id": "huge", "x": "' + "A" * 5000 + '"}', ROW % "b"])
                + "\n")
    s = summary(run_cli("reconcile", CONFIG, str(log), "--format", "json"))
    assert s["rows_read"] == 3 and s["rows_reconciled"] == 2 and s["skipped_by_reason"] == {"record-too-long": 1}


@pytest.mark.parametrize("engine", ["python", "vectorized"])
def test_an_unclosed_csv_quote_stops_at_its_first_line(write, monkeypatch, engine):
    monkeypatch.setattr(readers, "MAX_RECORD_CHARS", 1000)
    log = write("log.csv", HEADER + "a,0.1,10,5,gpt-4o\n" + 'b,0.1,10,5,"gpt\n' + "c,0.1,10,5,gpt-4o\n" * 200)
    # DuckDB stops at the same line in its own words (auto would then read with the reference)
    expected = "unclosed quote" if engine == "python" else "use --engine python"
    one_error_line(run_cli("reconcile", CONFIG, str(log), "--engine", engine), f"{log}:3", expected)


def test_a_json_list_is_read_an_item_at_a_time(write):
    items = [json.loads(ROW % f"r{i}") for i in range(5)] + [7]
    log = write("log.json", json.dumps(items, indent=1))
    s = summary(run_cli("reconcile", CONFIG, str(log), "--format", "json"))
    assert s["rows_read"] == 6 and s["skipped_by_reason"] == {"bad-json-item": 1}
    broken = write("broken.json", "[\n" + ROW % "a" + ",\n\n" + '{"x": nope}]')
    one_error_line(run_cli("reconcile", CONFIG, str(broken)), f"{broken}:4:", "not valid JSON")
    trailing = write("trailing.json", "[" + ROW % "a" + "] [")
    one_error_line(run_cli("reconcile", CONFIG, str(trailing)), "extra data after the list")
    wrapped = write("wrapped.json", json.dumps({"data": items[:2]}))
    assert summary(run_cli("reconcile", CONFIG, str(wrapped), "--format", "json"))["rows_reconciled"] == 2


def _limited(gigabytes: float):
    def limit() -> None:
        size = int(gigabytes * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    return limit


def test_one_huge_line_in_a_small_gzip_stays_within_1_gb(tmp_path):
    """300 MB of one line, 0.3 MB compressed: read in bounded pieces, under an address-space
    limit of 1 GB (the whole line in memory, decoded, would not fit)."""
    log = tmp_path / "bomb.jsonl.gz"
    with gzip.open(log, "wb") as fh:
        fh.write(b'{"request_id": "a", "x": "')
        for _ in range(300):
            fh.write(b"A" * (1 << 20))
        fh.write(b'"}\n' + (ROW % "b").encode() + b"\n")
    done = subprocess.run([sys.executable, "-m", "costctl", "reconcile", CONFIG, str(log), "--engine", "python",
                           "--format", "json"], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          preexec_fn=_limited(1.0))
    s = summary(done)
    assert s["rows_read"] == 2 and s["skipped_by_reason"] == {"record-too-long": 1}
    # DuckDB reserves more address space than it uses, so an address-space limit says nothing
    # about it: the default engine (DuckDB first) is held to a peak RSS of 1 GB instead.
    peak = subprocess.run([sys.executable, "-c", _PEAK_RSS, sys.executable, "-m", "costctl", "reconcile", CONFIG,
                           str(log), "--format", "json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    rss_kib, rest = peak.stdout.split("\n", 1)
    assert json.loads(rest)["summary"]["skipped_by_reason"] == {"record-too-long": 1}
    assert int(rss_kib) < 1024 * 1024, rss_kib


# Runs a command and prints its peak RSS in KiB, then its stdout.
_PEAK_RSS = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(done.stdout, end="")
"""


# -- values that used to reach an internal error -------------------------------------------------

def test_absurd_spends_are_skipped_and_an_all_skipped_log_is_not_clean(write):
    log = write("log.csv", HEADER + "a,1e400,10,5,gpt-4o\nb,1e20,10,5,gpt-4o\n")
    for fmt in ("table", "json", "csv", "markdown"):
        result = run_cli("reconcile", CONFIG, str(log), "--format", fmt)
        assert result.returncode == 1 and "Traceback" not in result.stderr and "internal" not in result.stderr
        assert "none of the 2 rows read could be reconciled: bad-spend (2)" in result.stderr
    empty = write("empty.csv", HEADER)
    assert run_cli("reconcile", CONFIG, str(empty)).returncode == 0  # nothing read: nothing wrong


def test_huge_prices_render_in_every_format(write):
    config = write("c.yaml", """
        model_list:
          - model_name: big
            litellm_params: {model: openai/gpt-4o, input_cost_per_token: 1e20, output_cost_per_token: 1e30}
    """)
    log = write("log.csv", HEADER + "a,0.1,10,5,big\n")
    for fmt in ("table", "json", "csv", "markdown"):
        result = run_cli("reconcile", str(config), str(log), "--format", fmt)
        assert result.returncode == 1 and "internal" not in result.stderr, result.stderr
    base = write("base.yaml", "model_list:\n  - model_name: big\n    litellm_params: {model: openai/gpt-4o}\n")
    for fmt in ("table", "json", "markdown"):
        result = run_cli("diff", str(base), str(config), "--usage", str(log), "--format", fmt)
        assert result.returncode in (0, 1) and "internal" not in result.stderr, result.stderr


# -- options --------------------------------------------------------------------------------------

def test_option_mistakes_are_usage_errors(write, monkeypatch):
    log = str(ROOT / "examples" / "spend_logs.csv")
    one_error_line(run_cli("reconcile", CONFIG, log, "--since", "2026-12-01", "--until", "2026-11-01"),
                   "is not before --until")
    one_error_line(run_cli("reconcile", CONFIG, log, "--map", "spend=typo"), "--map spend=typo: no such column")
    monkeypatch.setenv("COSTCTL_DUCKDB_MEMORY", "abc")
    one_error_line(run_cli("reconcile", CONFIG, log, "--engine", "vectorized"), "COSTCTL_DUCKDB_MEMORY='abc'")


# -- secrets ------------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["python", "vectorized"])
def test_log_values_in_skip_details_are_redacted(write, engine):
    key = "sk-live-abcdefghijklmnopqrstuvwxyz0123"
    log = write("log.csv", HEADER.replace("\n", ",startTime\n") + f"a,{key},10,5,gpt-4o,\n"
                f"b,0.1,10,5,gpt-4o,AKIAABCDEFGHIJKLMNOP\nc,NaN,10,5,gpt-4o,\n")
    for fmt in ("table", "json", "csv", "markdown"):
        result = run_cli("reconcile", CONFIG, str(log), "--format", fmt, "--engine", engine, "--since", "2026-01-01")
        out = result.stdout + result.stderr
        assert result.returncode == 1 and key not in out and "AKIAABCDEFGHIJKLMNOP" not in out, out
        assert "Decimal(" not in out
    details = {e["detail"] for e in json.loads(run_cli("reconcile", CONFIG, str(log), "--format", "json", "--engine",
                                                       engine, "--since", "2026-01-01").stdout)["summary"]["skip_examples"]}
    assert details == {"spend is '***', not a number", "startTime is '***', not an ISO-8601 time",
                       "spend is 'NaN'"}, details


# -- fuzz: whatever the bytes, a report or one clear line ---------------------------------------

ODD_CELLS = ["", "0.1", "1e-6", "-1", "NaN", "1e400", "12.5", "x", '"', '""', "\r", "\x00", "é",
             '{"usage_object": {"prompt_tokens": 1}}', "[1]", "null", "2026-11-01T00:00:00Z",
             "sk-live-abcdefghijklmnop", "\x1b[31m"]
_CELLS = st.sampled_from(ODD_CELLS)
_BASE = ["r", "0.1", "10", "5", "gpt-4o"]


def _mutated(changes: list[tuple[int, str]], n: int) -> str:
    """A valid row with some cells replaced (so that odd values reach the pricing, not only the
    parser), quoted as a CSV writer would when asked, or raw."""
    cells = [f"r{n}", *_BASE[1:]]
    for index, cell in changes:
        cells[index % len(cells)] = cell
    return ",".join(cells)


_LINES = st.lists(st.one_of(
    st.lists(st.tuples(st.integers(0, 4), _CELLS), max_size=2),
    st.lists(_CELLS, max_size=7).map(lambda cells: [(-1, ",".join(cells))])), max_size=8).map(
    lambda rows: [row[0][1] if row and row[0][0] == -1 else _mutated(row, n) for n, row in enumerate(rows)])
_JSONL = st.lists(st.one_of(
    st.dictionaries(st.sampled_from(["request_id", "spend", "prompt_tokens", "completion_tokens", "model",
                                     "metadata", "request_tags", "startTime"]),
                    st.one_of(st.none(), st.integers(-5, 10**20), st.floats(allow_nan=True), _CELLS,
                              st.lists(_CELLS, max_size=2)), max_size=8).map(json.dumps),
    _CELLS), max_size=8)


def _fuzz_run(path, suffix: str) -> None:
    out = path.parent / "out.txt"
    out.unlink(missing_ok=True)
    for engine, fmt in (("python", "table"), ("python", "csv"), ("vectorized", "json")):
        result = run_cli("reconcile", CONFIG, str(path), "--engine", engine, "--format", fmt, "-o", str(out))
        assert result.returncode in (0, 1, 2), result.returncode
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
        if result.returncode == 2:
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        elif fmt == "json":
            assert json.loads(out.read_text())["summary"]["rows_read"] >= 0
        else:
            assert out.read_text()


@pytest.mark.parametrize("gzipped", [False, True])
def test_every_odd_value_in_every_column(tmp_path, gzipped):
    """The grid the fuzz below samples: each odd value in each column of an otherwise valid row,
    all in one log."""
    rows = [_mutated([(column, cell)], n) for n, (column, cell) in
            enumerate((c, v) for c in range(len(_BASE)) for v in ODD_CELLS)]
    data = (HEADER + "\n".join(rows) + "\n").encode()
    path = tmp_path / ("log.csv.gz" if gzipped else "log.csv")
    path.write_bytes(gzip.compress(data) if gzipped else data)
    _fuzz_run(path, "csv")


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.sampled_from([HEADER, HEADER.replace("model", "model_id"), "", "a,b\n", HEADER * 2]), lines=_LINES,
       gzipped=st.booleans())
def test_fuzz_csv_logs(tmp_path, header, lines, gzipped):
    data = (header + "\n".join(lines)).encode("utf-8", "surrogatepass")
    path = tmp_path / ("log.csv.gz" if gzipped else "log.csv")
    path.write_bytes(gzip.compress(data) if gzipped else data)
    _fuzz_run(path, "csv")


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=_JSONL, as_list=st.booleans())
def test_fuzz_json_logs(tmp_path, lines, as_list):
    if as_list:
        path = tmp_path / "log.json"
        path.write_text("[" + ",".join(lines) + "]")
    else:
        path = tmp_path / "log.jsonl"
        path.write_text("\n".join(lines))
    _fuzz_run(path, "json")


# -- outputs: whole or not at all ------------------------------------------------------------------

def test_a_failed_run_leaves_the_previous_outputs_untouched(tmp_path):
    mismatches, report = tmp_path / "m.jsonl", tmp_path / "r.json"
    mismatches.write_text("previous\n")
    report.write_text("previous report\n")
    log = str(ROOT / "examples" / "spend_logs.csv")
    result = run_cli("reconcile", "examples/config.yaml", log, str(tmp_path / "nope.csv"), "--mismatches-out",
                     str(mismatches), "-o", str(report))
    one_error_line(result, "nope.csv")
    assert mismatches.read_text() == "previous\n" and report.read_text() == "previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.jsonl", "r.json"]  # no temporary left behind
    ok = run_cli("reconcile", "examples/config.yaml", log, "--mismatches-out", str(mismatches), "-o", str(report),
                 "--format", "json")
    assert ok.returncode == 1 and len(mismatches.read_text().splitlines()) == 62
    assert json.loads(report.read_text())["summary"]["rows_read"] == 602


def test_an_output_that_is_an_input_is_refused(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text((ROOT / "examples" / "config.yaml").read_text())
    before = config.read_text()
    one_error_line(run_cli("show", str(config), "-o", str(config)), "is also an input", str(config))
    one_error_line(run_cli("validate", str(config), "-o", str(tmp_path / "." / "config.yaml")), "is also an input")
    log = tmp_path / "log.csv"
    log.write_text((ROOT / "examples" / "spend_logs.csv").read_text())
    one_error_line(run_cli("reconcile", str(config), str(log), "--mismatches-out", str(log)), "is also an input")
    one_error_line(run_cli("reconcile", str(config), str(log), "-o", str(tmp_path / "x"), "--mismatches-out",
                           str(tmp_path / "x")), "two outputs")
    one_error_line(run_cli("diff", str(config), str(config), "-o", str(config)), "is also an input")
    assert config.read_text() == before and log.read_text() == (ROOT / "examples" / "spend_logs.csv").read_text()


@pytest.fixture(scope="module")
def big_log(tmp_path_factory):
    """A log that takes either engine several seconds."""
    log = tmp_path_factory.mktemp("big") / "big.csv"
    with log.open("w") as fh:
        fh.write(HEADER.replace("\n", ",metadata\n"))
        meta = '"{""usage_object"": {""prompt_tokens_details"": {""cached_tokens"": 1}}}"'
        fh.writelines(f"r{i},0.1,10,5,gpt-4o,{meta}\n" for i in range(1_500_000))
    return log


@pytest.mark.parametrize("engine", ["python", "vectorized"])
def test_ctrl_c_exits_130_in_one_line_and_writes_nothing(tmp_path, big_log, engine):
    import signal
    import time

    log = big_log
    out = tmp_path / "m.jsonl"
    out.write_text("previous\n")
    proc = subprocess.Popen([sys.executable, "-m", "costctl", "reconcile", CONFIG, str(log), "--engine", engine,
                             "--mismatches-out", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(2)
    assert proc.poll() is None, "the run ended before the interrupt: make the log larger"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert stderr.strip() == "costctl: interrupted" and stdout == ""
    assert out.read_text() == "previous\n" and [p.name for p in tmp_path.iterdir()] == ["m.jsonl"]


# -- configs: bounded whatever the file is ----------------------------------------------------------

def test_a_device_or_a_fifo_as_a_config_is_read_only_up_to_the_cap(tmp_path):
    import os
    import threading

    done = subprocess.run([sys.executable, "-m", "costctl", "show", "/dev/zero"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, preexec_fn=_limited(1.0))
    one_error_line(done, "/dev/zero", "are refused")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as fh:
            try:
                fh.write(b"x" * (20 << 20))
            except BrokenPipeError:
                pass

    writer = threading.Thread(target=feed)
    writer.start()
    one_error_line(run_cli("show", str(fifo)), "are refused")
    writer.join(10)
    config = tmp_path / "c.yaml"
    config.write_text("include:\n  - /dev/zero\nmodel_list: []\n")
    one_error_line(run_cli("show", str(config), "--include-root", "/"), "/dev/zero", "are refused")


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a\n  <<: *a\n  b: 1\n", "model_list: &m [{model_name: x, "
                                  "litellm_params: {model: openai/x}, more: *m}]\n", "a: " + "[" * 120_000 + "]" * 120_000])
def test_recursive_aliases_and_deep_nesting_are_one_line(write, text):
    path = write("c.yaml", text)
    for command in ("show", "validate"):
        one_error_line(run_cli(command, str(path)), str(path))


# -- what names can do to a terminal or a spreadsheet ------------------------------------------------

def test_control_characters_and_formulas_in_names_are_neutralised(write):
    config = write("c.yaml", 'model_list:\n  - model_name: "evil\\e[31mred\\rx\\n=1+1"\n'
                             '    litellm_params: {model: "@SUM(1+1)", input_cost_per_token: 1e-6}\n')
    for command, fmt in [("show", f) for f in ("table", "csv", "markdown", "json")] + \
                        [("validate", f) for f in ("text", "github", "markdown", "json", "junit", "sarif")]:
        result = run_cli(command, str(config), "--format", fmt)
        assert result.returncode in (0, 1), (fmt, result.stderr)
        for char in "\x1b\r":
            assert char not in result.stdout, (command, fmt)
    rows = run_cli("show", str(config), "--format", "csv").stdout.splitlines()
    assert len(rows) == 5  # the header and four prices: no name splits a row
    import csv as csv_module

    cells = list(csv_module.reader(rows[1:2]))[0]
    assert cells[0] == "evil\\x1b[31mred\\x0dx\\x0a=1+1" and cells[1] == "'@SUM(1+1)"
    fallback = run_cli("show", "examples/config.yaml", "--format", "csv").stdout
    assert ",same as input_cost_per_token" in fallback and "'=" not in fallback


def test_help_names_option_values_in_words_not_python_types():
    for command in ("show", "validate", "reconcile", "diff", "verify"):
        text = run_cli(command, "--help").stdout
        for python in ("<str>", "<int range>", "<list[str]>", "<float", "<list[model_group", "<path>", "...}"):
            assert python not in text, (command, python)


def test_absurd_prices_read_short_in_messages(write):
    config = write("c.yaml", "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o, "
                             "input_cost_per_token: 1e999, output_cost_per_token: .nan}\n")
    result = run_cli("validate", str(config))
    assert result.returncode == 1 and "Decimal(" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) < 300, result.stdout


# -- fuzz: configs ------------------------------------------------------------------------------------

_VALUES = st.sampled_from(["1e-6", "0.000002", "-1", ".nan", ".inf", "1e999", "[1, 2]", "{a: 1}", "null", "true",
                           '"x"', "*anchor", "&anchor 0.5", "!!binary aGk=", "!!python/object:os.system x",
                           "2026-11-01", "0x1F", "1_000", "'\x1b[31m'", "[[[[[]]]]]", '"sk-live-abcdefghijklmnop"'])
_KEYS = st.sampled_from(["input_cost_per_token", "output_cost_per_token", "model", "base_model", "api_key",
                         "tiered_pricing", "cache_read_input_token_cost", "<<", "model_info", "x"])


def _deployment(entries: list[tuple[str, str]], name: str) -> str:
    lines = [f"  - model_name: {name}", "    litellm_params:", "      model: openai/gpt-4o"]
    lines += [f"      {key}: {value}" for key, value in entries]
    return "\n".join(lines)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deployments=st.lists(st.lists(st.tuples(_KEYS, _VALUES), max_size=4), max_size=4),
       head=st.sampled_from(["", "include: [missing.yaml]\n", "include: [c.yaml]\n", "x: &anchor 1\n",
                             "litellm_settings: {cost_discount_config: {openai: 2}}\n", "\t"]),
       tail=st.sampled_from(["", "\n  - oops", "\nmodel_list: []", "\n: :", "\n- [", "\n\x00"]))
def test_fuzz_configs(tmp_path, deployments, head, tail):
    path = tmp_path / "c.yaml"
    body = "\n".join(_deployment(entries, f"m{i}") for i, entries in enumerate(deployments))
    path.write_bytes((head + "model_list:\n" + body + tail + "\n").encode("utf-8", "surrogatepass"))
    for command in (["show", "--format", "json"], ["show"], ["validate"], ["validate", "--format", "sarif"]):
        result = run_cli(command[0], str(path), *command[1:])
        assert result.returncode in (0, 1, 2), result.returncode
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
        if result.returncode == 2:
            assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == "", result.stderr
        assert "sk-live-abcdefghijklmnop" not in result.stdout + result.stderr


def test_a_character_yaml_refuses_is_one_line_with_its_position(write):
    path = write("c.yaml", 'model_list:\n  - model_name: "a\x1b[31m"\n')
    one_error_line(run_cli("show", str(path)), f"{path}:2:19:", "U+001B")
