"""Einsum: contractions written as index equations (``"bij,bjk->bik"``), counted pairwise left to right.

Two operands are contracted as one batched matrix product over the union of their labels: every combination
of the labels' sizes is one multiply-accumulate (``bij,bjk->bik``: b·i·j·k MACs, the same as ``matmul``).
When the pair shares no label that is summed (an outer or elementwise product, ``i,j->ij``), nothing
accumulates: one multiply per output element, other FLOPs (as PyTorch runs it: a broadcast ``mul``).
Before a pair is contracted, a label that appears in only one operand and nowhere later (not in another
operand, not in the output) is summed out of that operand first: one FLOP per element of it (a reduction).
Three or more operands are contracted left to right, each intermediate keeping the labels still needed;
PyTorch's ``torch.einsum`` contracts in that order too unless opt_einsum is installed and reorders them.
A single operand (a trace, a transpose, a sum) costs one FLOP per input element when a label is summed.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

from .registry import Cost, Shape, register


def _expand(term: str, rank: int, ellipsis_rank: int) -> str:
    """Replace ``...`` with one upper-case-free placeholder label per broadcast dim, right-aligned."""
    if "..." not in term:
        return term
    extra = rank - (len(term) - 3)
    labels = "".join(chr(0x3B1 + ellipsis_rank - extra + i) for i in range(extra))  # α, β, ... never in equations
    return term.replace("...", labels)


def parse_equation(equation: str, shapes: Sequence[Shape]) -> tuple[list[str], str, dict[str, int]]:
    """The operands' labels, the output's labels and each label's size (broadcast: the largest)."""
    eq = equation.replace(" ", "")
    lhs, _, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum {equation!r}: {len(terms)} operands in the equation, {len(shapes)} given")
    ellipsis_rank = max((len(s) - (len(t) - 3) for t, s in zip(terms, shapes, strict=True) if "..." in t), default=0)
    expanded = [_expand(t, len(s), ellipsis_rank) for t, s in zip(terms, shapes, strict=True)]
    sizes: dict[str, int] = {}
    for term, shape in zip(expanded, shapes, strict=True):
        if len(term) != len(shape):
            raise ValueError(f"einsum {equation!r}: operand {term!r} has rank {len(shape)}")
        for label, size in zip(term, shape, strict=True):
            sizes[label] = max(sizes.get(label, 1), size)
    if "->" in eq:
        out = _expand(rhs, ellipsis_rank + len(rhs) - 3, ellipsis_rank) if "..." in rhs else rhs
    else:  # implicit output: the ellipsis dims, then the labels seen once, sorted
        counts: dict[str, int] = {}
        for term in expanded:
            for label in term:
                counts[label] = counts.get(label, 0) + 1
        broadcast = "".join(chr(0x3B1 + i) for i in range(ellipsis_rank))
        out = broadcast + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in broadcast))
    return expanded, out, sizes


@register("einsum")
def einsum_cost(equation: str, shapes: Sequence[Shape]) -> Cost:
    """MACs and FLOPs of ``einsum(equation, *operands)`` with operands of ``shapes``.

    ``bij,bjk->bik`` on (2, 3, 4), (2, 4, 5): 2·3·4·5 = 120 MACs; ``ij->`` on (3, 4): 12 FLOPs (a sum).
    """
    terms, out, sizes = parse_equation(equation, shapes)

    def numel(labels: str) -> int:
        return prod(sizes[c] for c in labels)

    def reduce_alone(i: int, current: list[str]) -> tuple[str, Cost]:
        """Sum out of operand i the labels no other operand nor the output needs."""
        others = set(out).union(*(set(t) for j, t in enumerate(current) if j != i))
        kept = "".join(c for c in current[i] if c in others)
        if len(set(kept)) < len(set(current[i])):
            return "".join(dict.fromkeys(kept)), Cost(other_flops=numel("".join(dict.fromkeys(current[i]))))
        return current[i], Cost()

    if len(terms) == 1:
        term = "".join(dict.fromkeys(terms[0]))
        return Cost(other_flops=numel(term)) if set(term) - set(out) else Cost()
    cost = Cost()
    current = list(terms)
    while len(current) > 1:
        for i in (0, 1):
            current[i], c = reduce_alone(i, current)
            cost = cost + c
        a, b = current[0], current[1]
        union = "".join(dict.fromkeys(a + b))
        needed = set(out).union(*(set(t) for t in current[2:]))
        summed = (set(a) & set(b)) - needed
        cost = cost + (Cost(macs=numel(union)) if summed else Cost(other_flops=numel(union)))
        current = ["".join(c for c in union if c in needed), *current[2:]]
    return cost
