"""The HTTP API against its own OpenAPI document: schemathesis, every check, 0 failures.

A real ``pixserve serve`` (one worker, SQLite, the fast ``pencil`` style) answers
schemathesis's generated requests — its coverage, fuzzing and stateful phases, with a
bounded number of examples per operation and a fixed seed, so a run takes well under a
minute and a failure reproduces. Upload parts are real small images
(``tests/support/schemathesis_hooks.py``); everything else comes from ``/openapi.json``.

Reproduce by hand (with a server on :8000)::

    SCHEMATHESIS_HOOKS=tests/support/schemathesis_hooks.py \\
        .venv/bin/schemathesis run http://127.0.0.1:8000/openapi.json --checks all \\
        --max-examples 50 --seed 14

The figures (cases, failures) are printed for docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / "tests" / "support" / "schemathesis_hooks.py"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
#: Examples per operation and phase, and the seed; both can be changed for a longer hunt.
EXAMPLES = int(os.environ.get("PIXSERVE_SCHEMATHESIS_EXAMPLES", "50"))
SEED = int(os.environ.get("PIXSERVE_SCHEMATHESIS_SEED", "14"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {
        "PIXSERVE_STYLES": "pencil",  # a builtin operator: nothing to convert or warm
        # Submissions go through to the image checks rather than stopping at the per-client
        # limit (429 is documented and tested by the limits' own tests).
        "PIXSERVE_RATE_LIMIT": "",
        "PIXSERVE_TRANSLATE_WAIT_SECONDS": "2",
    }
    proc = ServerProcess(tmp_path_factory.mktemp("conformance"), env=env).start()
    try:
        yield proc
    finally:
        assert proc.terminate(), proc.log()


def test_the_api_conforms_to_its_openapi_document(server: ServerProcess, tmp_path: Path) -> None:
    if not SCHEMATHESIS.exists():
        pytest.skip("schemathesis is not installed (the dev extra has it)")
    report = tmp_path / "schemathesis.json"
    args = [
        str(SCHEMATHESIS),
        "--no-color",
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)}
    # In tmp_path: whatever the run keeps (hypothesis's examples) stays out of the tree.
    run = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=200)
    assert report.exists(), run.stdout[-4000:] + run.stderr[-4000:]
    result = json.loads(report.read_text())
    cases = result["test_cases"]
    failures = cases["unique_failures"]
    print(
        f"\nschemathesis {result['schemathesis_version']} (all checks, seed {SEED}, "
        f"{EXAMPLES} examples): {cases['generated']} cases, {failures} failures, "
        f"{len(result['errors'])} errors, {result['running_time']:.1f} s"
    )
    assert result["complete"], run.stdout[-6000:]
    assert result["errors"] == [], run.stdout[-6000:]
    assert failures == 0, run.stdout[-8000:]
    assert cases["generated"] > 100  # it really ran
