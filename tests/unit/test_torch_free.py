"""The serving path never imports torch (it is only in the ``train`` extra), and a worker
process never imports the web app."""

from __future__ import annotations

import subprocess
import sys

SERVING = [
    "pixserve.bootstrap",
    "pixserve.web",
    "pixserve.worker",
    "pixserve.pipeline",
    "pixserve.cli.main",
    "pixserve.cli.serve",
    "pixserve.cli.worker",
]


def test_serving_modules_do_not_import_torch() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in SERVING)
        + "import click\n"
        + "from pixserve.cli.main import cli\n"
        # Every command's module, as `pixserve --help` loads them (each is loaded lazily).
        + "context = click.Context(cli)\n"
        + "assert all(cli.get_command(context, name) for name in cli.list_commands(context))\n"
        + "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


#: What ``pixserve import`` needs for an ONNX file, and ``pixserve export`` for its bundle.
BUNDLING_WITHOUT_TORCH = [
    "pixserve.bundling",
    "pixserve.bundling.writer",
    "pixserve.bundling.thumbnail",
    "pixserve.bundling.probe",
    "pixserve.bundling.onnx_import",
]


def test_torch_free_bundling_modules_do_not_import_torch() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in BUNDLING_WITHOUT_TORCH)
        + "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_the_server_never_reaches_bundling() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in SERVING)
        + "print(sorted(m for m in sys.modules if m.startswith('pixserve.bundling')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_a_worker_process_never_imports_the_web_app() -> None:
    # ``pixserve worker`` builds a runtime and workers only: FastAPI, Starlette and the web
    # layer were 0.7 s of its start and 13 MB of its memory (the AVX2 EPYC).
    code = (
        "import sys, pixserve.bootstrap, pixserve.cli.worker\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette')"
        " or m.startswith('pixserve.web')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_the_models_package_does_import_torch() -> None:
    """So the check above would notice if the serving path reached ``pixserve.models``."""
    code = "import sys, pixserve.models; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"
