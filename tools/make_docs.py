"""``make docs``: regenerate every output pasted into README.md and docs/, between marker comments

    <!-- generated: NAME (make docs) -->
    ...
    <!-- /generated: NAME -->

``python tools/make_docs.py`` rewrites the blocks (and docs/report-resnet50.png with headless chromium);
``--check`` only says which blocks are stale (exit 1); ``--only NAME,...`` limits either to some blocks.
``tests/test_docs_fresh.py`` runs the cheap blocks on every test run and the zoo blocks with the zoo tests.
"""

from __future__ import annotations

import argparse
import functools
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(
    r"(<!-- generated: (?P<name>[\w-]+) \(make docs\) -->\n)(?P<body>.*?)(<!-- /generated: (?P=name) -->)", re.S
)
FILES = ("README.md", "docs/ops.md")
LENET = str(ROOT / "examples" / "seed_models.py") + ":LeNet5"


def _fenced(text: str, info: str = "") -> str:
    return f"```{info}\n{text.rstrip()}\n```\n"


def lenet_table() -> str:
    import modelmeter

    text = modelmeter.summary(LENET).render(width=100)
    return _fenced("\n".join(line.rstrip() for line in text.splitlines()))


def lenet_explain() -> str:
    import modelmeter

    lines = modelmeter.summary(LENET).explain().splitlines()
    return _fenced("\n".join(lines[2:5]))  # conv1: its output size, params and MACs


@functools.cache
def _zoo_entries() -> list[Any]:
    """Every torchvision classification model through ``compare`` once (about a minute on meta)."""
    import modelmeter

    return modelmeter.compare(["torchvision:*"], sort=None)


def _compare_table(args: str, **select: Any) -> str:
    from modelmeter.render.comparison import render_text
    from modelmeter.report.compare import select as select_entries

    table = render_text(select_entries(_zoo_entries(), **select))
    return _fenced(f"modelmeter compare {args}\n" + "\n".join(line.rstrip() for line in table.splitlines()))


def zoo() -> str:
    return _compare_table("'torchvision:*'", sort="macs")


def zoo_phone() -> str:
    args = "'torchvision:*' --max-params 5M --sort acc@1 --reverse"
    return _compare_table(args, sort="acc@1", reverse=True, max_params=5_000_000)


def op_rules() -> str:
    """Every aten op and torch function with a cost rule, by the module that registers it, and the ops declared
    zero: generated from the cost tables themselves."""
    from modelmeter.frontends.torch.costs import forward

    by_module: dict[str, list[str]] = {}
    named = {str(op).removeprefix("aten."): adapter for op, adapter in forward.ATEN_COSTS.items()}
    named.update({name.replace("::", "."): adapter for name, adapter in forward.LAZY_COSTS.items()})
    for name, adapter in named.items():
        by_module.setdefault(adapter.__module__.rsplit(".", 1)[-1], []).append(name)
    functions = sorted({name for name, _ in forward.FUNCTION_COSTS.values()})
    zero = sorted(str(op).removeprefix("aten.") for op in forward.ZERO_COST)
    out = [f"| registered in `costs/` | ops ({sum(map(len, by_module.values()))} aten + {len(functions)} functions) |"]
    out.append("|---|---|")
    for module in ("forward", "backward", "quantized"):
        ops = sorted(by_module.pop(module, []))
        out.append(f"| `{module}.py` | {', '.join(f'`{o}`' for o in ops)} |")
    for module, ops in sorted(by_module.items()):
        out.append(f"| `{module}.py` | {', '.join(f'`{o}`' for o in sorted(ops))} |")
    out.append(f"| functions (`FUNCTION_COSTS`) | {', '.join(f'`{f}`' for f in functions)} |")
    out.append(f"| declared zero ({len(zero)}) | {', '.join(f'`{o}`' for o in zero)} |")
    return "\n".join(out) + "\n"


def resnet50_figure() -> str:
    """The alt text of the HTML report's screenshot carries the totals it shows, so a stale picture is seen."""
    import modelmeter
    from modelmeter import _units as u

    t = modelmeter.summary("torchvision:resnet50").totals
    text = f"HTML report of torchvision:resnet50 ({u.human_count(t.macs)} MACs, {u.human_count(t.flops)} FLOPs)"
    return f"![{text}](docs/report-resnet50.png)\n"


GENERATORS: dict[str, Callable[[], str]] = {
    "lenet-table": lenet_table,
    "lenet-explain": lenet_explain,
    "op-rules": op_rules,
    "resnet50-figure": resnet50_figure,
    "zoo": zoo,
    "zoo-phone": zoo_phone,
}
SLOW = frozenset({"zoo", "zoo-phone"})  # the whole torchvision zoo: about a minute


def blocks(text: str) -> dict[str, str]:
    return {m["name"]: m["body"] for m in BLOCK.finditer(text)}


def stale(names: set[str] | None = None) -> list[str]:
    """``file: block`` for each generated block whose text differs from what its generator gives now."""
    found = []
    for rel in FILES:
        for name, body in blocks((ROOT / rel).read_text(encoding="utf-8")).items():
            if (names is None or name in names) and GENERATORS[name]() != body:
                found.append(f"{rel}: {name}")
    return found


def write(names: set[str] | None = None) -> None:
    for rel in FILES:
        path = ROOT / rel
        text = path.read_text(encoding="utf-8")

        def fill(m: re.Match[str]) -> str:
            name = m["name"]
            if names is not None and name not in names:
                return m[0]
            return m[1] + GENERATORS[name]() + m[4]

        path.write_text(BLOCK.sub(fill, text), encoding="utf-8")


def screenshot(png: Path = ROOT / "docs" / "report-resnet50.png") -> None:
    """docs/report-resnet50.png: the HTML report of resnet50 in headless chromium, 1280 px wide."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        raise SystemExit("chromium is not installed (apt-get install -y chromium); the picture was not regenerated")
    import modelmeter

    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(modelmeter.summary("torchvision:resnet50").to_html(), encoding="utf-8")
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={png}",
             "--window-size=1280,1600", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only list the stale blocks (exit 1 if any)")
    parser.add_argument("--only", help="comma-separated block names")
    args = parser.parse_args(argv)
    names = set(args.only.split(",")) if args.only else None
    if args.check:
        found = stale(names)
        for line in found:
            print(f"stale: {line} (run make docs)")
        return 1 if found else 0
    write(names)
    if names is None or "resnet50-figure" in names:
        screenshot()
    return 0


if __name__ == "__main__":
    sys.exit(main())
