"""Memory arithmetic without a framework: dtype sizes, training state per parameter, sharding, KV cache."""

import pytest

from modelmeter.errors import UsageError
from modelmeter.memory import dtypes
from modelmeter.memory.kv_cache import kv_cache_bytes
from modelmeter.memory.training import optimizer_bytes_per_param, shard


def test_bytes_per_dtype_and_packed_int4():
    assert dtypes.nbytes(1000, "fp32") == 4000
    assert dtypes.nbytes(1000, "bf16") == 2000
    assert dtypes.nbytes(1000, "float16") == 2000
    assert dtypes.nbytes(1000, "fp8") == 1000
    assert dtypes.nbytes(1000, "int8") == 1000
    assert dtypes.nbytes(1000, "int4") == 500  # two weights per byte
    assert dtypes.nbytes(5, "int4") == 3  # ceil(5 / 2): the odd nibble still takes a byte
    with pytest.raises(UsageError, match="int4"):
        dtypes.canonical("int3")


def test_optimizer_state_per_parameter_zero_paper():
    # fp32: SGD keeps nothing, momentum one fp32 buffer, Adam exp_avg + exp_avg_sq
    assert optimizer_bytes_per_param("sgd", "fp32") == 0
    assert optimizer_bytes_per_param("sgd-momentum", "fp32") == 4
    assert optimizer_bytes_per_param("adam", "fp32") == 8
    # mixed precision adds the fp32 master copy: K = 4 + 4 + 4 = 12 for Adam (ZeRO, section 3.1)
    assert optimizer_bytes_per_param("adamw", "bf16-mixed") == 12
    assert optimizer_bytes_per_param("adam", "fp16-mixed") == 12
    assert optimizer_bytes_per_param("sgd", "bf16-mixed") == 4
    with pytest.raises(UsageError, match="adamw"):
        optimizer_bytes_per_param("lion", "fp32")


def test_sharding_formulas_zero_paper_figure_1():
    # ZeRO Figure 1: Ψ = 7.5B, N_d = 64, K = 12, mixed precision: 120 GB baseline, 31.4 GB P_os,
    # 16.6 GB P_os+g, 1.9 GB P_os+g+p (activations left out: 0).
    psi = 7_500_000_000
    p, g, o = 2 * psi, 2 * psi, 12 * psi
    assert shard("ddp", 64, p, g, o, 0).total == 120_000_000_000
    assert shard("zero1", 64, p, g, o, 0).total == 2 * psi + 2 * psi + -(-12 * psi // 64)  # 31.41 GB
    assert round(shard("zero1", 64, p, g, o, 0).total / 1e9, 1) == 31.4
    assert round(shard("zero2", 64, p, g, o, 0).total / 1e9, 1) == 16.6
    assert round(shard("zero3", 64, p, g, o, 0).total / 1e9, 2) == 1.88
    # data parallel keeps each device's activations; tensor parallel splits them
    assert shard("zero3", 8, 800, 800, 800, 100).activations == 100
    assert shard("tp", 8, 800, 800, 800, 100).total == 100 + 100 + 100 + 13  # ceil(100 / 8) = 13
    with pytest.raises(UsageError):
        shard("pipeline", 2, 1, 1, 1, 1)


def test_kv_cache_formula_gqa():
    # Llama-2-70B: 80 layers, 8 KV heads (GQA) of dim 128; seq 4096, batch 1, fp16:
    # 2 * 80 * 8 * 128 * 4096 * 1 * 2 = 1,342,177,280 bytes = 1.25 GiB
    assert kv_cache_bytes(80, 8, 128, 4096, 1, 2) == 1_342_177_280
