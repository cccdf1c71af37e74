"""Small models that misbehave on purpose, for the robustness tests (referenced as files by the CLI tests)."""

import torch
from torch import nn


class Net(nn.Module):
    """A healthy model: conv, BatchNorm (buffers), dropout, linear. 6*3*3*3+6 + 12 + 6*8*8*10+10 params."""

    input_size = (2, 3, 8, 8)

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(6 * 8 * 8, 10)

    def forward(self, x):
        return self.fc(self.drop(self.bn(self.conv(x))).flatten(1))


class ShapeBug(nn.Module):
    """Fails deep inside: b.0 expects 9 features and gets 8."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 8)
        self.b = nn.Sequential(nn.Linear(9, 2))

    def forward(self, x):
        return self.b(self.a(x))


class Boom(nn.Module):
    def __init__(self, exc: BaseException | None = None) -> None:
        super().__init__()
        self.exc = exc or ValueError("boom")

    def forward(self, x):
        raise self.exc


class Interrupted(nn.Module):
    """Ctrl-C arrives while a submodule's forward runs: on meta (``where="meta"``), or on the CPU fallback
    (``where="cpu"``: an op meta cannot run comes first)."""

    def __init__(self, where: str = "meta") -> None:
        super().__init__()
        self.where = where
        self.bn = nn.BatchNorm1d(4)
        self.inner = nn.Sequential(nn.Linear(4, 4), Boom(KeyboardInterrupt()))

    def forward(self, x):
        x = self.bn(x)
        if self.where == "cpu":
            x.sum().item()  # meta cannot: the meta attempt fails here, the CPU attempt goes on
        return self.inner(x)


class Vandal(nn.Module):
    """A forward that changes everything it can reach, then (optionally) raises. Needs the CPU fallback
    (``.item()``), where it also draws random numbers and updates a parameter in place."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.fc = nn.Linear(4, 4)
        self.bn = nn.BatchNorm1d(4)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        x.sum().item()  # meta cannot; forces the CPU fallback
        torch.set_default_dtype(torch.float64)
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.set_grad_enabled(True)
        torch.set_anomaly_enabled(True)
        torch.rand(3)  # the global random generator moves
        self.fc.weight.mul_(2.0)  # in place on a parameter
        self.fc.bias.requires_grad_(False)
        self.bn.train()
        self.drop.eval()
        self.fc.weight = nn.Parameter(torch.zeros(4, 4, dtype=torch.float32))  # reassigned
        x = self.drop(self.bn(self.fc(x)))
        if self.fail:
            raise RuntimeError("vandal failed")
        return x


class NeedsCpu(nn.Module):
    """Runs only on the CPU fallback (``.item()``), with dropout active: the inputs there are random."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        n = int((x > 0).sum().item())  # data-dependent, like a mask count
        y = self.drop(self.fc(x))
        return y[:, : n % 16 + 1]  # the output shape depends on the input values
