"""The command line: a thin adapter (parse -> library -> render) with one error boundary in main()."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import click

from ._version import __version__
from .errors import ModelMeterError, UsageError

DEVICES = ("auto", "meta", "cpu")  # mirrors frontends.torch.analyze.DEVICES without importing torch
# mirror modelmeter.memory.{dtypes,training} (no torch there, but keep the CLI's import light)
WEIGHT_DTYPES = ("fp32", "bf16", "fp16", "fp8", "int8", "int4")
OPTIMIZERS = ("sgd", "sgd-momentum", "adam", "adamw")
PRECISIONS = ("fp32", "bf16-mixed", "fp16-mixed")


def parse_shape(text: str) -> tuple[int, ...]:
    """'1,3,224,224' or '1x3x224x224' -> (1, 3, 224, 224)."""
    parts = [p.strip() for p in text.replace("x", ",").split(",") if p.strip()]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(d < 0 for d in shape):
        raise UsageError(f"--input {text!r}: expected non-negative integers like 1,3,224,224")
    return shape


def _common(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options every analysing command shares."""
    for deco in reversed(
        [
            click.argument("model"),
            click.option("--input", "-i", "inputs", multiple=True, metavar="SHAPE",
                         help="Input shape, e.g. 1,3,224,224 (repeat for several inputs)."),
            click.option("--dtype", "dtypes", multiple=True, metavar="DTYPE",
                         help="Input dtype (default float32); one, or one per --input."),
            click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True,
                         help="Where the forward runs; auto = meta, CPU only if an op needs it."),
            click.option("--strict", is_flag=True, help="Fail if any op ran without a formula."),
            click.option("--debug", is_flag=True, help="Show tracebacks on errors."),
        ]
    ):
        fn = deco(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="modelmeter")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
def cli(debug: bool) -> None:
    """What a neural network costs: parameters, shapes, MACs and FLOPs, layer by layer."""


@cli.command()
@_common
@click.option("--depth", type=click.IntRange(min=0), default=None, help="Deepest layer level shown in the table.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write to FILE instead of stdout.")
@click.option("--memory", "with_memory", is_flag=True, help="Measure weights, activation peak and per-layer bytes.")
@click.option("--weights-dtype", type=click.Choice(WEIGHT_DTYPES), default=None,
              help="Re-price the weights at this format (int4 packed two per byte); implies --memory.")
@click.option("--train", is_flag=True, help="Add one training step: state, saved activations, backward FLOPs.")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="adamw", show_default=True)
@click.option("--precision", type=click.Choice(PRECISIONS), default="fp32", show_default=True)
@click.option("--gpus", type=click.IntRange(min=1), default=None,
              help="With --train: per-device bytes under DDP, ZeRO-1/2/3 and tensor parallel on N GPUs.")
@click.option("--checkpointing", is_flag=True, help="With --train: activation checkpointing of every repeated block.")
def summary(
    model: str,
    inputs: tuple[str, ...],
    dtypes: tuple[str, ...],
    device: str,
    strict: bool,
    debug: bool,
    depth: int | None,
    fmt: str,
    output: str | None,
    with_memory: bool = False,
    weights_dtype: str | None = None,
    train: bool = False,
    optimizer: str = "adamw",
    precision: str = "fp32",
    gpus: int | None = None,
    checkpointing: bool = False,
) -> None:
    """Per-layer table and totals for MODEL (torchvision:NAME, FILE.py:NAME)."""
    from ._api import summary as run_summary

    sizes = [parse_shape(s) for s in inputs] or None
    report = run_summary(
        model,
        input_size=sizes,
        dtypes=list(dtypes) or None,
        device=device,
        strict=strict,
        memory=with_memory,
        weights_dtype=weights_dtype,
        train=train,
        optimizer=optimizer,
        precision=precision,
        gpus=gpus,
        checkpointing=checkpointing,
    )
    if fmt == "json":
        text = report.to_json() + "\n"
    elif output:
        text = report.render(depth=depth)
    else:
        from rich.console import Console

        from .render.table import print_report

        print_report(report, Console(), depth)
        if report.memory is not None:
            from .render.memory import memory_text

            click.echo("\n" + memory_text(report.memory), nl=False)
        return
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        click.echo(text, nl=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 error, 2 usage error). The one error boundary."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="modelmeter", standalone_mode=False)
        return 0
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        return 2 if isinstance(exc, click.UsageError) else exc.exit_code
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        return 130
    except ModelMeterError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        return 2 if isinstance(exc, UsageError) else 1
    except Exception as exc:  # noqa: BLE001 - the boundary: a bug must still be one line without --debug
        if debug:
            traceback.print_exc()
        click.echo(
            f"error: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)", err=True
        )
        return 1
