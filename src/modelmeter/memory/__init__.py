"""Memory arithmetic that needs no framework: dtype sizes, training state, sharding, KV cache, the report part."""

from .kv_cache import kv_cache_bytes
from .report import Memory, Training
from .training import OPTIMIZERS, PRECISIONS, STRATEGIES, Sharded, optimizer_bytes_per_param, shard

__all__ = [
    "OPTIMIZERS",
    "PRECISIONS",
    "STRATEGIES",
    "Memory",
    "Sharded",
    "Training",
    "kv_cache_bytes",
    "optimizer_bytes_per_param",
    "shard",
]
