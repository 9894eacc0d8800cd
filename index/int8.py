"""int8 ingest behind a retrieval gate: NNCF post-training quantisation of the verified export.

The quantised model is kept only as a candidate: once per machine and model (the export cache entry is
keyed by CPU), the gate embeds a generated retrieval set (index.calibration) with it and with the float32
export, asks each its own question vectors (questions are embedded by the model that made the passages,
index.precision.LIKE_PASSAGES), and refuses it when Recall@1, Recall@10 or MRR@10 drops by 0.005 or more.
bfloat16 is measured the same way. The gate also measures an index whose passages alternate between the
candidate and float32 (an incremental ingest in another precision, asked in float32): when that loses, mixing
is refused for that precision (index.onnx_embed).
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from index.calibration import RetrievalScores, RetrievalSet, generated_retrieval_set, retrieval_scores

__all__ = ["quantize_int8", "GateResult", "retrieval_gate", "check_set", "gate_set", "calibration_texts", "MAX_LOSS",
           "MIN_GATE_QUESTIONS", "GATE_QUESTIONS", "INT8_MODEL"]

MAX_LOSS = 0.005
# Below 400 questions one changed answer is a 0.0025 step: the gate could not resolve a 0.005 loss.
MIN_GATE_QUESTIONS = 400
GATE_QUESTIONS = 800
_CALIBRATION_PASSAGES = 300  # NNCF's default subset size
INT8_MODEL = "model-int8.xml"

Embed = Callable[[Sequence[str]], np.ndarray]


def gate_set() -> RetrievalSet:
    """The questions and passages the gate measures (a seed disjoint from the calibration texts')."""
    return generated_retrieval_set(GATE_QUESTIONS, seed=20)


def calibration_texts() -> list[str]:
    """What NNCF sees to choose the activation ranges: passages and questions, as ingest and queries do."""
    calibration = generated_retrieval_set(_CALIBRATION_PASSAGES // 2, seed=21)
    return [*calibration.passages, *calibration.questions]


def quantize_int8(onnx_model: Path, target: Path, texts: Sequence[str],
                  tokenize: Callable[[str], dict[str, np.ndarray]]) -> Path:
    """The export quantised to int8 (weights and activations) by NNCF, saved as OpenVINO IR in `target`."""
    import nncf
    import openvino as ov

    nncf.set_log_level(logging.ERROR)
    model = ov.Core().read_model(str(onnx_model))
    # NNCF draws progress bars on the terminal; `briefbot ingest` has its own.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        quantized = nncf.quantize(model, nncf.Dataset(list(texts), tokenize), model_type=nncf.ModelType.TRANSFORMER,
                                  subset_size=len(texts))
    ov.save_model(quantized, str(target / INT8_MODEL))
    return target / INT8_MODEL


@dataclass(frozen=True)
class GateResult:
    """One precision measured against float32 (each asked with its own question vectors; a mixed index in float32)."""

    precision: str
    passed: bool
    reason: str
    reference: RetrievalScores | None = None
    candidate: RetrievalScores | None = None
    mixed: RetrievalScores | None = None
    mixing_passed: bool = False

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def check_set(retrieval: RetrievalSet) -> str | None:
    """Why the gate cannot judge anything with this set (too few questions), or None."""
    if len(retrieval.questions) < MIN_GATE_QUESTIONS:
        return (f"the calibration set has {len(retrieval.questions)} questions; the gate needs at least "
                f"{MIN_GATE_QUESTIONS} to resolve a {MAX_LOSS} loss")
    return None


def retrieval_gate(precision: str, retrieval: RetrievalSet, questions: np.ndarray, reference: np.ndarray,
                   candidate: Embed) -> GateResult:
    """Pass `precision` only if its passage vectors lose < MAX_LOSS on every measure against `reference`.

    `questions`/`reference`: float32 vectors of the set's questions and passages; `candidate` embeds both in
    `precision`, as ingest and questions would. The set must pass `check_set` first.
    """
    vectors = candidate(list(retrieval.passages))
    mixed = reference.copy()
    mixed[::2] = vectors[::2]
    want, both = (retrieval_scores(v, questions) for v in (reference, mixed))
    got = retrieval_scores(vectors, candidate(list(retrieval.questions)))
    losses = {name: loss for name, loss in want.losses(got).items() if loss >= MAX_LOSS}
    reason = "; ".join(f"{name} loses {loss:.4f} (>= {MAX_LOSS})" for name, loss in losses.items())
    mixing = all(loss < MAX_LOSS for loss in want.losses(both).values())
    return GateResult(precision, not losses, reason or "no measure loses 0.005", want, got, both, mixing)
