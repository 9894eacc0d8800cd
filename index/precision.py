"""Which float format the embedding model runs in: bfloat16 where the CPU has native bf16 units.

Setting (`BRIEFBOT_PRECISION`, read by bot.config) = auto (default) | fp32 | bf16. `auto` picks bfloat16 only when
/proc/cpuinfo lists `avx512_bf16` or `amx_bf16`; CPUs without them run bf16 slower than fp32.
Stored vectors are always float32 unit rows; the manifest records the precision that made them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from index.errors import BriefbotError

__all__ = ["FLOAT32", "BFLOAT16", "PRECISIONS", "native_bf16", "resolve_precision", "PRECISION_ENV"]

FLOAT32 = "float32"
BFLOAT16 = "bfloat16"
PRECISIONS = (FLOAT32, BFLOAT16)
PRECISION_ENV = "BRIEFBOT_PRECISION"
_ALIASES = {"fp32": FLOAT32, "float32": FLOAT32, "bf16": BFLOAT16, "bfloat16": BFLOAT16}
_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@lru_cache(maxsize=1)
def native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """True when the CPU advertises native bfloat16 arithmetic (AVX-512 BF16 or AMX)."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(_BF16_FLAGS & set(line.split(":", 1)[-1].split()))
    return False


def resolve_precision(setting: str = "auto") -> str:
    """'float32' or 'bfloat16' for a setting."""
    value = setting.strip().lower()
    if value == "auto":
        return BFLOAT16 if native_bf16() else FLOAT32
    if value not in _ALIASES:
        raise BriefbotError(f"{PRECISION_ENV}={value!r} is not one of auto, fp32, bf16")
    return _ALIASES[value]
