"""OpenVINO's runtime without its model-conversion tools.

`import openvino` also imports `openvino.tools.ovc` (convert_model), which briefbot never calls: the model is
exported with torch.onnx and read as ONNX by `Core`. That import took 130-170 ms of every one-shot `briefbot ask`
(about a seventh of it, docs/performance.md) and starts OpenVINO's telemetry client. openvino/__init__.py imports
it inside `try/except ImportError`, and a None in sys.modules makes that import fail.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

__all__ = ["openvino_runtime"]

_CONVERSION_TOOLS = "openvino.tools.ovc"


def openvino_runtime() -> ModuleType:
    """The openvino module; imported here first, without openvino.tools.ovc."""
    if "openvino" not in sys.modules:
        sys.modules.setdefault(_CONVERSION_TOOLS, None)  # type: ignore[arg-type]
    return importlib.import_module("openvino")
