"""Settings every test process shares (subprocesses such as real servers inherit them)."""

from __future__ import annotations

import os

# Tests run models on ONNX Runtime fp32 whatever the CPU: their timings (a job that must
# still be running a second later) and start-up budgets do not depend on the machine, and
# no server spends its start probing bf16 engines. Engine choice has its own tests, which
# pass their policy explicitly (tests/unit/inference/test_engines.py).
os.environ.setdefault("PIXSERVE_ENGINE", "onnxruntime")
