"""Which number format the embedding model runs in for ingest: float32, bfloat16 or int8.

Setting (`BRIEFBOT_PRECISION`, read by bot.config) = auto (default) | fp32 | bf16 | int8. `auto` runs the int8
model when its retrieval gate passed on this machine (index.int8), else bfloat16 when /proc/cpuinfo lists
`avx512_bf16` or `amx_bf16` (CPUs without them run bf16 slower than fp32), else float32. Stored vectors
are always float32 unit rows; the manifest records the precision that made them.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from index.errors import BriefbotError

__all__ = ["FLOAT32", "BFLOAT16", "INT8", "AUTO", "LIKE_PASSAGES", "PRECISIONS", "native_bf16", "native_int8", "resolve_precision", "parse_precision",
           "PRECISION_ENV", "cpu_flags", "cpu_signature", "REPORTED_FLAGS"]

FLOAT32 = "float32"
BFLOAT16 = "bfloat16"
INT8 = "int8"
AUTO = "auto"
# Not a user setting: questions are embedded by the model that made the index's passages (where this machine
# verified it, else float32). On an int8 index a float32 question lost dev R@1 0.880 → 0.867 (docs/quality.md).
LIKE_PASSAGES = "like-passages"
PRECISIONS = (FLOAT32, BFLOAT16, INT8)
PRECISION_ENV = "BRIEFBOT_PRECISION"
_ALIASES = {"fp32": FLOAT32, "float32": FLOAT32, "bf16": BFLOAT16, "bfloat16": BFLOAT16, "int8": INT8, AUTO: AUTO}
_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
_INT8_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})
# The flags that decide how fast (and in which kernels) OpenVINO runs bf16 and int8 here.
REPORTED_FLAGS = ("avx512_bf16", "amx_bf16", "amx_int8", "amx_tile", "avx512_vnni", "avx_vnni")


@lru_cache(maxsize=2)
def _cpuinfo(cpuinfo: str) -> tuple[str, frozenset[str]]:
    """(model name, flags) of the first CPU listed; empty when /proc/cpuinfo cannot be read."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return "", frozenset()
    model, flags = "", frozenset[str]()
    for line in text.splitlines():
        if line.startswith("model name") and not model:
            model = line.split(":", 1)[-1].strip()
        elif line.startswith("flags"):
            return model, frozenset(line.split(":", 1)[-1].split())
    return model, flags


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str]:
    return _cpuinfo(cpuinfo)[1]


def cpu_signature(cpuinfo: str = "/proc/cpuinfo") -> str:
    """A short stable id of this CPU model and its ISA: compiled models and the int8 gate are only valid on it."""
    model, flags = _cpuinfo(cpuinfo)
    return hashlib.sha256(f"{model}|{' '.join(sorted(flags))}".encode()).hexdigest()[:10]


@lru_cache(maxsize=1)
def native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """True when the CPU advertises native bfloat16 arithmetic (AVX-512 BF16 or AMX)."""
    return bool(_BF16_FLAGS & cpu_flags(cpuinfo))


def native_int8(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """True when the CPU has int8 dot-product units (VNNI or AMX), without which int8 gains little."""
    return bool(_INT8_FLAGS & cpu_flags(cpuinfo))


def parse_precision(setting: str) -> str:
    """'auto', 'float32', 'bfloat16' or 'int8' for a setting (fp32, bf16, … are accepted)."""
    value = setting.strip().lower()
    if value not in _ALIASES:
        raise BriefbotError(f"{PRECISION_ENV}={value!r} is not one of auto, fp32, bf16, int8")
    return _ALIASES[value]


def resolve_precision(setting: str = AUTO) -> str:
    """The float format PyTorch runs in for a setting: 'float32' or 'bfloat16' (int8 exists only as an export)."""
    value = parse_precision(setting)
    if value in (AUTO, INT8):
        return BFLOAT16 if native_bf16() else FLOAT32
    return value
