"""Formats for validation findings: text, GitHub annotations, SARIF 2.1.0, JUnit XML."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import PurePath
from typing import Any
from xml.etree import ElementTree as ET

from costctl import __version__
from costctl.choices import SEVERITY_RANK
from costctl.report import jsontext
from costctl.report.common import RenderOptions, counted, safe
from costctl.results import ValidateResult, VerifyResult

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def where(f: Any) -> str:
    return f"{f.file}:{f.line}:{f.column}"


def summary_line(result: ValidateResult) -> str:
    """`2 errors, 1 warning, 0 info in 2 files (fail on error: failed)`, for stderr."""
    s = result.summary
    word = "failed" if result.failed else "passed"
    return (f"{counted(s['error'], 'error')}, {counted(s['warning'], 'warning')}, {s['info']} info in "
            f"{counted(len(result.files), 'file')} ({counted(len(result.deployments), 'deployment')}; "
            f"fail on {result.fail_on}: {word})")


def verify_summary_line(result: VerifyResult) -> str:
    """`proxy http://… (LiteLLM 1.65.0): 3 errors, … (6 probes; fail on error: failed)`, for stderr."""
    s = result.summary
    word = "failed" if result.failed else "passed"
    probes = (f"{counted(result.probes_sent, 'probe')}, {counted(result.charges_verified, 'charge')} verified"
              if result.probes_sent else "no probes")
    return (f"proxy {result.proxy} (LiteLLM {result.version or 'version unknown'}): {s['error']} "
            f"error{'s' * (s['error'] != 1)}, {s['warning']} warning{'s' * (s['warning'] != 1)}, {s['info']} info "
            f"({counted(len(result.deployments), 'deployment')}, {probes}; fail on {result.fail_on}: {word})")


class TextFormatter:
    """`file:line:col: CODE [severity] message (deployment)`, one finding a line."""

    name = "text"

    def validate(self, result: ValidateResult, opts: RenderOptions) -> str:
        if not opts.color:
            return "".join(f"{where(f)}: {f.code} [{f.severity}] {safe(f.message)}"
                           + (f" ({safe(f.deployment)})" if f.deployment else "") + "\n" for f in result.findings)
        import io

        from rich.console import Console
        from rich.text import Text

        buf = io.StringIO()
        console = Console(file=buf, force_terminal=True, highlight=False, soft_wrap=True)
        for f in result.findings:
            line = Text(where(f), style="bold")
            line.append(f": {f.code} ", style="bold")
            line.append(f"[{f.severity}]", style=SEVERITY_STYLE[f.severity])
            line.append(f" {safe(f.message)}")
            if f.deployment:
                line.append(f" ({safe(f.deployment)})", style="dim")
            console.print(line)
        return buf.getvalue()

    verify = validate


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubFormatter:
    """GitHub Actions workflow commands: an annotation per finding on the pull request's files."""

    name = "github"
    LEVEL = {"error": "error", "warning": "warning", "info": "notice"}

    def validate(self, result: ValidateResult, opts: RenderOptions) -> str:
        lines = []
        for f in result.findings:
            props = (f"file={_escape_property(f.file)},line={f.line},col={f.column},"
                     f"title={_escape_property(f'{f.code} {f.name}')}")
            message = safe(f.message) + (f" ({safe(f.deployment)})" if f.deployment else "")
            lines.append(f"::{self.LEVEL[f.severity]} {props}::{_escape_data(message)}\n")
        return "".join(lines)

    verify = validate


class SarifFormatter:
    """SARIF 2.1.0 for code-scanning upload: every rule with its help, results with locations."""

    name = "sarif"
    LEVEL = {"error": "error", "warning": "warning", "info": "note"}

    def validate(self, result: ValidateResult, opts: RenderOptions) -> str:
        from costctl.rules import RULES

        codes = sorted(RULES)
        index = {code: i for i, code in enumerate(codes)}
        rules = []
        for code in codes:
            r = RULES[code]
            rules.append({
                "id": code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.doc},
                "help": {"text": r.doc, "markdown": f"**{code} {r.name}**\n\n```\n{r.doc}\n```"},
                "defaultConfiguration": {"level": self.LEVEL[r.severity]},
                "properties": {"tags": ["billing", "litellm"]},
            })
        results = []
        places: dict[str, tuple[str, bool]] = {}  # file -> (uri, absolute): a few files, thousands of findings
        for f in result.findings:
            if f.file not in places:
                path = PurePath(f.file)
                places[f.file] = (path.as_posix(), path.is_absolute())
            uri, absolute = places[f.file]
            location: dict[str, Any] = {"uri": uri}
            if not absolute:
                location["uriBaseId"] = "%SRCROOT%"
            fingerprint = hashlib.sha256(f"{f.code}|{uri}|{f.path}|{f.deployment}".encode()).hexdigest()[:32]
            results.append({
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": self.LEVEL[f.severity],
                "message": {"text": safe(f.message) + (f" ({safe(f.deployment)})" if f.deployment else "")},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": location,
                        "region": {"startLine": f.line, "startColumn": f.column},
                    },
                    "logicalLocations": [{"fullyQualifiedName": f.path}] if f.path else [],
                }],
                "partialFingerprints": {"costctl/v1": fingerprint},
            })
        doc = {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "costctl",
                    "version": __version__,
                    "informationUri": "https://pypi.org/project/costctl/",
                    "rules": rules,
                }},
                "originalUriBaseIds": {"%SRCROOT%": {"uri": "./"}},
                "artifacts": [{"location": {"uri": PurePath(p).as_posix()}} for p in result.files],
                "results": results,
                "properties": {"catalog": result.catalog.stamp()},
            }],
        }
        return jsontext.dumps(doc) + "\n"


class JunitFormatter:
    """JUnit XML: a test suite per file, a test case per deployment (plus one for the file's
    own settings); findings at or above --fail-on are failures, the others go to system-out."""

    name = "junit"

    def validate(self, result: ValidateResult, opts: RenderOptions) -> str:
        starts: dict[str, list[int]] = defaultdict(list)
        for file, line, _n, _m in result.deployments:
            starts[file].append(line)

        def owner(f: Any) -> int | None:
            """The deployment a finding belongs to: the last one starting at or before it."""
            if not f.path.startswith("model_list["):
                return None
            return max((ln for ln in starts.get(f.file, []) if ln <= f.line), default=None)

        by_place: dict[tuple[str, int | None], list[Any]] = defaultdict(list)
        for f in result.findings:
            by_place[(f.file, owner(f))].append(f)
        suites = ET.Element("testsuites", name=f"costctl {result.command}")
        total_tests = total_failures = 0
        for file in result.files:
            cases: list[tuple[int | None, str, str]] = [(None, "config", "settings and keys outside model_list")]
            cases += [(line, name, model) for f_, line, name, model in result.deployments if f_ == file]
            suite = ET.SubElement(suites, "testsuite", name=file)
            tests = failures = 0
            for start, name, model in cases:
                found = by_place.get((file, start), [])
                if start is None and not found:
                    continue
                label = f"{safe(name)} · {safe(model)} (line {start})" if start is not None else "config file"
                case = ET.SubElement(suite, "testcase", classname=file, name=label)
                tests += 1
                failing = [f for f in found if SEVERITY_RANK[f.severity] >= SEVERITY_RANK[result.fail_on]]
                for f in failing:
                    failure = ET.SubElement(case, "failure", type=f.code, message=safe(f.message))
                    failure.text = f"{where(f)}: {f.code} {f.name} [{f.severity}] {safe(f.message)}"
                if failing:
                    failures += 1
                passing = [f for f in found if f not in failing]
                if passing:
                    out = ET.SubElement(case, "system-out")
                    out.text = "\n".join(f"{where(f)}: {f.code} [{f.severity}] {safe(f.message)}" for f in passing)
            suite.set("tests", str(tests))
            suite.set("failures", str(failures))
            total_tests += tests
            total_failures += failures
        suites.set("tests", str(total_tests))
        suites.set("failures", str(total_failures))
        ET.indent(suites)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"

    verify = validate
