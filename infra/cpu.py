"""What this machine's CPU is and can do, from /proc/cpuinfo (empty answers elsewhere)."""
import functools

CPUINFO = "/proc/cpuinfo"
# Instruction sets that compute in bfloat16 natively; without them TensorFlow emulates it
# and a bfloat16 GAN runs slower than a float32 one.
BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")


def _fields(name: str, path: str = CPUINFO) -> list:
    try:
        with open(path) as f:
            return [line.split(":", 1)[1].strip() for line in f
                    if line.split(":", 1)[0].strip() == name]
    except OSError:
        return []


@functools.lru_cache(maxsize=None)
def cpu_flags(path: str = CPUINFO) -> frozenset:
    return frozenset(" ".join(_fields("flags", path)).split())


def cpu_model(path: str = CPUINFO) -> str:
    names = _fields("model name", path)
    return f"{names[0]} x{len(names)}" if names else "unknown"


def native_bfloat16(path: str = CPUINFO) -> bool:
    return any(flag in cpu_flags(path) for flag in BFLOAT16_FLAGS)
