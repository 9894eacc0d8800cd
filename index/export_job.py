"""`python -m index.export_job ROOT MODEL_ID MODEL_PATH`: the retrieval gate of a float32 export, detached.

Started by index.onnx_embed through index.background (which holds its lock while this runs) when a
command made the float32 export itself and went on with it: this quantises the int8 candidate, measures
the bf16/int8 candidates with the retrieval gate and publishes the gated entry (index.onnx_embed.gate_export).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from index.onnx_embed import gate_export

__all__ = ["main"]


def main(argv: Sequence[str]) -> int:
    root, model_id, model_path = argv
    # The user's next command comes first: this job only makes later ones faster.
    os.nice(10)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("briefbot").info(gate_export(Path(root), model_id, Path(model_path)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
