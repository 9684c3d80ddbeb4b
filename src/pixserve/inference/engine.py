"""The ``Engine`` protocol: something that runs a model on a batch of tensors."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Engine(Protocol):
    """Runs one model. Input and output are float32 arrays in the model's own layout."""

    @property
    def name(self) -> str:
        """What runs the model, e.g. ``onnxruntime/CPUExecutionProvider``."""
        ...

    @property
    def accepts_batches(self) -> bool:
        """Whether the model's batch axis is free, so N images can run as one batch (N, ...);
        False for a model exported with a fixed batch of one."""
        ...

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Run the model on ``batch`` (N, ...) and return its first output."""
        ...
