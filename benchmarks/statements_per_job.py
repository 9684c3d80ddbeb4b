"""SQL statements one job costs the job database, phase by phase (SQLite, in one process).

    .venv/bin/python benchmarks/statements_per_job.py [--jobs 20]

Builds the runtime on a fresh SQLite data dir (as ``pixserve serve`` does), then for each of
``--jobs`` jobs of the built-in ``pencil`` style (a 64×64 photo, with a webhook to a local
server that answers 204) counts the statements SQLAlchemy sends in each phase:

- submit: ``JobService.submit`` (intake checks, the row, the outbox rows it needs);
- run: one ``Worker.run_once`` (claim, heartbeats, success, aftercare);
- status: one ``JobService.status`` (what ``GET /v1/jobs/{id}`` reads);
- deliver: the housekeeper's passes until the webhook is sent (claim, send, mark sent).

It prints the mean per job. PostgreSQL's worker moves go through psycopg, not SQLAlchemy,
so this counts the SQLite path, where every statement goes through SQLAlchemy. Run it in
another tree with ``PYTHONPATH=<tree>/src`` to compare versions.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image
from sqlalchemy import event
from sqlalchemy.engine import Engine

COUNT: Counter[str] = Counter()
PHASE = ["setup"]


@event.listens_for(Engine, "before_cursor_execute")
def _count(*_: object) -> None:
    COUNT[PHASE[0]] += 1


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    args = parser.parse_args()

    hook = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{hook.server_address[1]}/hook"

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            PIXSERVE_DATA_DIR=tmp,
            PIXSERVE_STYLES="pencil",
            PIXSERVE_WEBHOOK_ALLOW_PRIVATE="true",
            PIXSERVE_RATE_LIMIT="",
        )
        from pixserve.bootstrap import build_pool, build_runtime
        from pixserve.core.settings import get_settings
        from pixserve.services import Submission

        runtime = build_runtime(get_settings())
        pool = build_pool(runtime, 1)  # not started: the phases are driven one by one
        worker, housekeeper = pool.workers[0], pool.housekeeper
        assert housekeeper is not None
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), (120, 80, 200)).save(buffer, "JPEG")
        photo = buffer.getvalue()

        for _ in range(args.jobs):
            PHASE[0] = "submit"
            view = runtime.service.submit(Submission(data=photo, style="pencil", webhook_url=url))
            PHASE[0] = "run"
            assert worker.run_once()
            PHASE[0] = "status"
            assert runtime.service.status(view.id).status.value == "succeeded"
            PHASE[0] = "deliver"
            for _ in range(20):
                housekeeper.run_once(now=float("inf"))
                if all(d.status == "sent" for d in runtime.outbox.for_job(view.id)):
                    break
        PHASE[0] = "done"
        runtime.close()
    hook.shutdown()
    total = 0.0
    for phase in ("submit", "run", "status", "deliver"):
        per_job = COUNT[phase] / args.jobs
        total += per_job
        print(f"{phase:<8} {per_job:6.1f} statements per job")
    note = f"(SQLite, {args.jobs} jobs, a webhook each)"
    print(f"{'total':<8} {total:6.1f} statements per job {note}")


if __name__ == "__main__":
    main()
