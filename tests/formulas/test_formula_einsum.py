"""formulas/einsum.py: hand counts, and the same MACs as PyTorch's einsum counted at the aten level."""

from __future__ import annotations

import pytest

from modelmeter.formulas import Cost, formula

einsum = formula("einsum")


def test_hand_counts():
    assert einsum("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]) == Cost(macs=2 * 3 * 4 * 5)  # = matmul, 120
    assert einsum("ij->", [(3, 4)]) == Cost(other_flops=12)  # a sum of 12 elements
    assert einsum("ij->ji", [(3, 4)]) == Cost()  # a transpose
    assert einsum("i,j->ij", [(3,), (4,)]) == Cost(other_flops=12)  # outer product: 12 multiplies, no accumulate
    assert einsum("...ij,...jk", [(7, 2, 3, 4), (4, 5)]) == Cost(macs=7 * 2 * 3 * 4 * 5)  # implicit, broadcast
    # i appears only in the first operand and not in the output: summed out first (12 FLOPs), then j,k: 20 MACs
    assert einsum("ij,jk->k", [(3, 4), (4, 5)]) == Cost(macs=4 * 5, other_flops=3 * 4)
    # three operands, left to right: (ij,jk) -> ik: 2*3*4 MACs; (ik,kl) -> il: 2*4*5
    assert einsum("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]) == Cost(macs=2 * 3 * 4 + 2 * 4 * 5)


@pytest.mark.parametrize(
    ("equation", "shapes"),
    [
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("bhqd,bhkd->bhqk", [(2, 4, 8, 16), (2, 4, 10, 16)]),
        ("ij,jk->ik", [(5, 6), (6, 7)]),
        ("i,j->ij", [(3,), (4,)]),
        ("bi,bi->b", [(4, 9), (4, 9)]),
    ],
)
def test_same_macs_as_torch(equation, shapes):
    torch = pytest.importorskip("torch")
    import modelmeter

    class E(torch.nn.Module):
        def forward(self, *xs):
            return torch.einsum(equation, *xs)

    ref = modelmeter.summary(E(), input_size=shapes)
    assert einsum(equation, shapes).macs == ref.totals.macs
    if equation == "i,j->ij":
        assert einsum(equation, shapes).flops == ref.totals.flops == 12  # a broadcast mul in both
