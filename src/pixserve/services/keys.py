"""Where a job's images live in the blob store. One place, so cleanup finds them all."""

from __future__ import annotations


def job_prefix(job_id: str) -> str:
    """The folder that holds every blob of one job."""
    return f"jobs/{job_id}/"


def input_key(job_id: str, extension: str) -> str:
    """The uploaded original, kept as uploaded (EXIF is applied when it is decoded)."""
    return f"{job_prefix(job_id)}input.{extension}"


def result_key(job_id: str, attempt: int, worker_id: str, extension: str) -> str:
    """A result, unique per attempt and worker.

    A worker that lost its lease writes to its own key, so it can never overwrite the result
    of the worker that owns the job now; it deletes its own blob when ``succeed`` refuses it.
    """
    return f"{job_prefix(job_id)}result-{attempt}-{worker_id[:12]}.{extension}"


def preview_key(job_id: str, attempt: int, worker_id: str) -> str:
    """A result's smaller, watermarked preview (JPEG), unique per attempt and worker."""
    return f"{job_prefix(job_id)}preview-{attempt}-{worker_id[:12]}.jpg"
