"""The command line: a thin adapter (parse -> library -> render) with one error boundary in main()."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import click

from ._version import __version__
from .errors import ForwardError, ModelMeterError, UsageError
from .options import (
    ATTENTION_KERNELS,
    ATTENTION_MODES,
    DEVICES,
    FORMATS,
    OPTIMIZERS,
    PRECISIONS,
    SORT_KEYS,
    WEIGHT_DTYPES,
)

ATTENTION = ATTENTION_MODES


def _render(report: Any, fmt: str, depth: int | None) -> str:
    """A report in a non-table format (every format renders the same Report)."""
    if fmt == "json":
        return report.to_json() + "\n"
    if fmt == "csv":
        return report.to_csv()
    if fmt == "markdown":
        return report.to_markdown(depth=depth)
    return report.to_html()


def _count_option(text: str | None, option: str) -> int | None:
    from ._units import parse_count

    if text is None:
        return None
    try:
        return parse_count(text)
    except ValueError as exc:
        raise UsageError(f"{option} {exc}") from None


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


def parse_inputs(texts: Sequence[str], dtypes: Sequence[str] = ()) -> Any:
    """``--input`` values: shapes (``1,3,224,224``, one per positional input) or named inputs
    (``input_features=1,80,3000``, ``decoder_input_ids=1,64:int64``) -> a list of shapes or {name: (shape, dtype)}."""
    if not texts:
        return None
    named = ["=" in t for t in texts]
    if not any(named):
        return [parse_shape(t) for t in texts]
    if not all(named):
        raise UsageError("--input: give every input as NAME=SHAPE[:DTYPE], or every input as a bare SHAPE")
    if dtypes:
        raise UsageError("--dtype does not apply to named inputs; write the dtype after the shape: NAME=SHAPE:DTYPE")
    out: dict[str, Any] = {}
    for text in texts:
        name, _, rest = text.partition("=")
        shape_text, _, dtype = rest.partition(":")
        if not name.strip() or any(c.isspace() for c in name.strip()):
            raise UsageError(f"--input {text!r}: {name!r} is not an argument name (e.g. input_ids=1,128:int64)")
        if name.strip() in out:
            raise UsageError(f"--input {text!r}: {name.strip()!r} is given twice")
        shape = parse_shape(shape_text)
        out[name.strip()] = (shape, dtype.strip()) if dtype.strip() else shape
    return out


def parse_dims(texts: Sequence[str]) -> dict[str, int] | None:
    """--dim NAME=N values (ONNX symbolic dims, Loop trip counts) -> {NAME: N}."""
    dims: dict[str, int] = {}
    for text in texts:
        name, _, value = text.rpartition("=")
        try:
            size = int(value)
        except ValueError:
            size = -1
        if not name.strip() or size < 0:
            raise UsageError(f"--dim {text!r}: expected NAME=N with N a non-negative integer, like batch=1")
        dims[name.strip()] = size
    return dims or None


def _common(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options every analysing command shares."""
    for deco in reversed(
        [
            click.argument("model"),
            click.option(
                "--input",
                "-i",
                "inputs",
                multiple=True,
                metavar="[NAME=]SHAPE",
                help="Input shape, e.g. 1,3,224,224 (repeat for several inputs), or a named input "
                "NAME=SHAPE[:DTYPE], e.g. --input input_features=1,80,3000 "
                "--input decoder_input_ids=1,64:int64.",
            ),
            click.option(
                "--dim",
                "dims",
                multiple=True,
                metavar="NAME=N",
                help="ONNX: the size of a symbolic dim (batch=1) or a Loop's trip count (repeatable).",
            ),
            click.option(
                "--dtype",
                "dtypes",
                multiple=True,
                metavar="DTYPE",
                help="Input dtype (default float32); one, or one per --input.",
            ),
            click.option(
                "--device",
                type=click.Choice(DEVICES),
                default="auto",
                show_default=True,
                help="Where the forward runs; auto = the cheaper of meta and CPU (the other if it fails).",
            ),
            click.option("--strict", is_flag=True, help="Fail if any op ran without a formula."),
            click.option(
                "--attention",
                type=click.Choice(ATTENTION),
                default="full",
                show_default=True,
                help="full: the whole T_q x T_k score matrix (as published figures); causal-aware: only "
                "the unmasked part of causal and sliding-window attention.",
            ),
            click.option(
                "--seq-len",
                type=click.IntRange(min=1),
                default=None,
                help="Sequence length of a Hugging Face model's input ids (hf:PATH; default 128).",
            ),
            click.option(
                "--batch",
                type=click.IntRange(min=1),
                default=None,
                help="Batch size of a Hugging Face model's input (hf:PATH; default 1).",
            ),
            click.option(
                "--partial",
                is_flag=True,
                help="If the forward fails, still print what ran before it failed (exit code 1).",
            ),
            click.option(
                "--trust-pickle",
                is_flag=True,
                help="Unpickle a checkpoint holding a full model; this runs code from the file.",
            ),
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
@click.option(
    "--by",
    "by",
    type=click.Choice(["layer", "op"]),
    default="layer",
    show_default=True,
    help="Rows of the table: one per layer, or one per op type (MACs and FLOPs of each).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table and markdown: K/M/G numbers; json and csv: exact integers; html: one offline page.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write to FILE instead of stdout.")
@click.option("--memory", "with_memory", is_flag=True, help="Measure weights, activation peak and per-layer bytes.")
@click.option(
    "--weights-dtype",
    type=click.Choice(WEIGHT_DTYPES),
    default=None,
    help="Re-price the weights at this format (int4 packed two per byte); implies --memory.",
)
@click.option("--train", is_flag=True, help="Add one training step: state, saved activations, backward FLOPs.")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="adamw", show_default=True)
@click.option("--precision", type=click.Choice(PRECISIONS), default="fp32", show_default=True)
@click.option(
    "--gpus",
    type=click.IntRange(min=1),
    default=None,
    help="With --train: per-device bytes under DDP, ZeRO-1/2/3 and tensor parallel on N GPUs.",
)
@click.option("--checkpointing", is_flag=True, help="With --train: activation checkpointing of every repeated block.")
@click.option(
    "--kv-dtype",
    type=click.Choice(WEIGHT_DTYPES),
    default=None,
    help="hf: causal LMs: price the KV cache at this dtype (default: the config's); implies --memory.",
)
@click.option(
    "--tokens",
    default=None,
    metavar="N",
    help="hf: causal LMs with --train: training FLOPs for a token budget such as 1T, beside 6·N·D.",
)
@click.option(
    "--hardware",
    default=None,
    metavar="NAME",
    help="Roofline estimate on a hardware profile (see `modelmeter hardware`; cpu = this CPU, probed).",
)
@click.option(
    "--efficiency",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="With --hardware: the fraction of peak FLOP/s and bandwidth reached (default: calibrated, else 1).",
)
@click.option(
    "--hardware-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="User hardware profiles (TOML or YAML; default $MODELMETER_HARDWARE_FILE or "
    "~/.config/modelmeter/hardware.toml).",
)
@click.option("--measure", is_flag=True, help="Run the model for real (CUDA if present, else CPU) and time it.")
@click.option("--runs", type=click.IntRange(min=1), default=20, show_default=True, help="With --measure: timed runs.")
@click.option(
    "--warmup", type=click.IntRange(min=0), default=5, show_default=True, help="With --measure: warm-up runs."
)
@click.option(
    "--save-efficiency",
    default=None,
    metavar="NAME",
    help="With --measure: save the calibrated efficiency as profile NAME in the hardware file.",
)
@click.option(
    "--attention-kernel",
    type=click.Choice(ATTENTION_KERNELS),
    default="auto",
    show_default=True,
    help="Memory: the scaled-dot-product attention kernel priced; auto = the one PyTorch picks on the "
    "CPU (on an sm80+ GPU with --gpus). Implies --memory.",
)
def summary(
    model: str,
    inputs: tuple[str, ...],
    dims: tuple[str, ...],
    dtypes: tuple[str, ...],
    device: str,
    strict: bool,
    attention: str,
    seq_len: int | None,
    batch: int | None,
    partial: bool,
    trust_pickle: bool,
    debug: bool,
    by: str,
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
    kv_dtype: str | None = None,
    tokens: str | None = None,
    hardware: str | None = None,
    efficiency: float | None = None,
    hardware_file: str | None = None,
    measure: bool = False,
    runs: int = 20,
    warmup: int = 5,
    save_efficiency: str | None = None,
    attention_kernel: str = "auto",
) -> None:
    """Per-layer (or per-op) table and totals for MODEL (torchvision:NAME, timm:NAME, FILE.py:NAME, hf:PATH or
    hf:ORG/NAME from the local cache, a checkpoint .pt/.safetensors, a layer spec NET.yaml, or a Keras
    MODEL.keras)."""
    from ._api import summary as run_summary

    sizes = parse_inputs(inputs, dtypes)
    if output:
        _check_output(output, model)
    report = run_summary(
        model, input_size=sizes, dims=parse_dims(dims), dtypes=list(dtypes) or None, device=device, strict=strict,
        partial=partial, trust_pickle=trust_pickle, memory=with_memory, weights_dtype=weights_dtype, train=train,
        optimizer=optimizer, precision=precision, gpus=gpus, checkpointing=checkpointing,
        kv_dtype=kv_dtype, tokens=tokens, attention=attention, seq_len=seq_len, batch=batch,
        hardware=hardware, efficiency=efficiency, hardware_file=hardware_file, measure=measure, runs=runs,
        warmup=warmup,
        attention_kernel=attention_kernel,
    )  # fmt: skip
    if save_efficiency is not None:
        _save_efficiency(report, save_efficiency, hardware_file)
    _emit(report, fmt, depth, output, by)
    if fmt != "json":
        for note in report.notes:
            click.echo(f"note: {note}", err=True)
    if report.partial:  # the report of what ran is out; the failure still decides the exit code
        raise ForwardError(report.error or "the forward failed")


def _save_efficiency(report: Any, name: str, hardware_file: str | None) -> None:
    measured = report.roofline.measured if report.roofline is not None else None
    if measured is None or measured.calibrated_efficiency is None:
        raise UsageError("--save-efficiency needs --measure (the efficiency is calibrated from the measurement)")
    from .hardware import find, save_efficiency
    from .hardware.user import DEFAULT, user_file

    path = user_file(hardware_file) or DEFAULT.expanduser()
    efficiency = measured.calibrated_efficiency
    written = save_efficiency(path, name, efficiency, find(report.roofline.hardware, hardware_file))
    click.echo(f"saved efficiency {efficiency:.3f} as hardware profile {name!r} in {written}", err=True)


@cli.command("hardware")
@click.option("--hardware-file", type=click.Path(dir_okay=False), default=None, help="User hardware profiles.")
@click.option("--probe", is_flag=True, help="Also measure this CPU now (the `cpu` profile; about a second).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
def hardware_command(hardware_file: str | None, probe: bool, fmt: str, debug: bool) -> None:
    """The hardware profiles --hardware accepts: peak dense FLOP/s per dtype, memory bandwidth, source."""
    from .hardware import profiles
    from .render.hardware import hardware_json, hardware_text

    known = profiles(hardware_file, probe=probe)
    click.echo(hardware_json(known) if fmt == "json" else hardware_text(known, probed=probe), nl=False)


def _check_output(output: str, model: str) -> None:
    """Never overwrite the file being analyzed (``-o net.py`` would lose the user's model)."""
    target = os.path.realpath(output)
    source = model.rpartition(":")[0] if ".py:" in model else model
    if os.path.exists(source) and os.path.realpath(source) == target:
        raise UsageError(f"--output {output!r} is the model file itself; choose another file")


def _emit(report: Any, fmt: str, depth: int | None, output: str | None, by: str = "layer") -> None:
    if fmt != "table":
        text = _render(report, fmt, depth)
    elif output:
        text = report.render(depth=depth, by=by)
    else:
        from rich.console import Console

        from .render.table import print_report

        print_report(report, Console(), depth, by=by)
        if report.memory is not None:
            from .render.memory import memory_text

            click.echo("\n" + memory_text(report.memory), nl=False)
        if report.llm is not None:
            from .render.memory import llm_text

            click.echo(llm_text(report.llm), nl=False)
        if report.roofline is not None:
            from .render.roofline import roofline_text

            click.echo("\n" + roofline_text(report.roofline), nl=False)
        return
    _write(text, output)


def _write(text: str, output: str | None) -> None:
    if output:
        try:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise ModelMeterError(f"cannot write {output}: {exc.strerror or exc}") from exc
    else:
        click.echo(text, nl=False)


def _utf8(stream: Any) -> bool:
    """Whether ``stream`` can show the explanation's ·, →, −, γ, β (else ASCII stand-ins are written)."""
    import codecs

    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "ascii").name.startswith("utf")
    except LookupError:
        return False


@cli.command()
@_common
@click.option("--ascii", "ascii_", is_flag=True, help="Write * and -> instead of · and → (automatic when not UTF-8).")
def explain(
    model: str,
    inputs: tuple[str, ...],
    dims: tuple[str, ...],
    dtypes: tuple[str, ...],
    debug: bool,
    ascii_: bool,
    **options: Any,
) -> None:
    """The hand calculation of every classic layer of MODEL: each formula, then with its numbers."""
    from ._api import summary as run_summary

    # ``options`` are the shared analysis options (device, strict, ...), passed on as summary takes them
    sizes = parse_inputs(inputs, dtypes)
    report = run_summary(model, input_size=sizes, dims=parse_dims(dims), dtypes=list(dtypes) or None, **options)
    click.echo(report.explain(ascii=ascii_ or not _utf8(sys.stdout)), nl=False)


POOL_MIN_MODELS = 16  # a pattern naming this many models runs them on every core (`compare 'torchvision:*'`: 80)


@cli.command()
@click.argument("models", nargs=-1, required=True)
@click.option(
    "--input",
    "-i",
    "inputs",
    multiple=True,
    metavar="SHAPE",
    help="Input shape for every model (default: each model's own, e.g. its weights' crop size).",
)
@click.option(
    "--dim",
    "dims",
    multiple=True,
    metavar="NAME=N",
    help="ONNX files: the size of a symbolic dim, e.g. batch=1 (repeatable).",
)
@click.option("--dtype", "dtypes", multiple=True, metavar="DTYPE", help="Input dtype (default float32).")
@click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True)
@click.option("--strict", is_flag=True, help="A model with ops lacking a formula fails (in its row).")
@click.option(
    "--sort",
    type=click.Choice(SORT_KEYS),
    default="macs",
    show_default=True,
    help="Order of the rows; models without the figure come last.",
)
@click.option("--reverse", is_flag=True, help="Largest first.")
@click.option("--max-params", metavar="COUNT", help="Keep models with at most COUNT params, e.g. 5M.")
@click.option("--max-macs", metavar="COUNT", help="Keep models with at most COUNT MACs, e.g. 600M.")
@click.option(
    "--memory/--no-memory",
    default=True,
    show_default=True,
    help="Also measure each model's inference activation peak (in the same forward as the counts).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help=f"Processes to analyze the models in (default: one per core for a pattern naming {POOL_MIN_MODELS} or more "
    "models, else 1: this process).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="json: a list of the models' report documents, in the shown order.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write to FILE instead of stdout.")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
def compare(
    models: tuple[str, ...],
    inputs: tuple[str, ...],
    dims: tuple[str, ...],
    dtypes: tuple[str, ...],
    device: str,
    strict: bool,
    sort: str,
    reverse: bool,
    max_params: str | None,
    max_macs: str | None,
    memory: bool,
    jobs: int | None,
    fmt: str,
    output: str | None,
    debug: bool,
) -> None:
    """Models side by side: params, MACs, FLOPs, weight bytes, activation peak (and accuracy where published).

    MODELS are references or patterns: 'torchvision:resnet*', 'torchvision:*' (the classification zoo),
    'timm:convnext*', 'net.py:*'. A model that fails is reported in its row; the others still run.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ._api import compare as run_compare
    from ._api import expand
    from ._parallel import prestart, usable_cores
    from .render import comparison as render

    limits = _count_option(max_params, "--max-params"), _count_option(max_macs, "--max-macs")
    sizes = parse_inputs(inputs, dtypes)
    dim_sizes = parse_dims(dims)
    # A pattern may name many models: the worker server starts importing torch now, on another core, while the
    # pattern is expanded here; the pool is used if the pattern named POOL_MIN_MODELS or more.
    patterned, cores = any(c in m for m in models for c in "*?["), usable_cores()
    if jobs is None and patterned and cores > 1:
        prestart(["torch", *{m.partition(":")[0] for m in models if m.partition(":")[0] in ("torchvision", "timm")}])
    refs = expand(models)  # expanded here for the progress bar's total; expanding again is a no-op
    if jobs is None:
        jobs = cores if patterned and cores > 1 and len(refs) >= POOL_MIN_MODELS else 1
    err = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=len(refs) < 2) as bar:
        task = bar.add_task("analyzing", total=len(refs))

        def start(ref: str) -> None:
            bar.update(task, description=ref)

        shown = run_compare(
            refs,
            input_size=sizes,
            dtypes=list(dtypes) or None,
            device=device,
            strict=strict,
            sort=sort,
            reverse=reverse,
            max_params=limits[0],
            max_macs=limits[1],
            memory=memory,
            dims=dim_sizes,
            workers=jobs,
            on_start=start,
            on_done=lambda _: bar.advance(task),
        )
    if fmt == "table" and not output:
        render.print_table(shown, Console())
    else:
        from .render.html import render_comparison_html

        renderers = {
            "table": render.render_text,
            "json": render.render_json,
            "csv": render.render_csv,
            "markdown": render.render_markdown,
            "html": render_comparison_html,
        }
        _write(renderers[fmt](shown), output)
    failed = sum(e.report is None for e in shown)  # the size filters keep failed rows
    if failed:
        raise ModelMeterError(f"{failed} of {len(refs)} models failed; their rows say why")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 error, 2 usage error). The one error boundary."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        # Not cli.main(): it turns Ctrl-C into Abort after printing a blank line; here Ctrl-C reaches the handler below.
        with cli.make_context("modelmeter", args) as ctx:
            cli.invoke(ctx)
        return 0
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        help_ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and help_ctx is not None:  # bare `modelmeter`
            click.echo(help_ctx.get_help(), err=True)
            return 2
        click.echo(f"error: {_one_line(exc.format_message())}", err=True)
        return 2 if isinstance(exc, click.UsageError) else exc.exit_code
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        return 130
    except BrokenPipeError:  # `modelmeter ... | head`: the reader left; nothing to report
        _silence_stdout()
        return 1
    except ModelMeterError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"error: {_one_line(str(exc))}", err=True)
        return 2 if isinstance(exc, UsageError) else 1
    except Exception as exc:  # noqa: BLE001 - the boundary: a bug must still be one line without --debug
        if debug:
            traceback.print_exc()
        message = f"internal error: {type(exc).__name__}: {_one_line(str(exc))}"
        click.echo(f"error: {message} (rerun with --debug for the traceback)", err=True)
        return 1


def run() -> None:
    """The console script (and ``python -m modelmeter``): :func:`main`, then the exit.

    Once torch is imported, the interpreter's teardown (freeing every object of every module) takes about 0.9 s
    on this project's machine, a tenth of a whole ``compare 'torchvision:*'``. modelmeter registers nothing to
    run at exit and has closed any file it wrote, so, with the output flushed, the process ends at once then."""
    code = main()
    if "torch" not in sys.modules:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: nothing more can reach it
            pass
    os._exit(code)


def _one_line(message: str) -> str:
    """The error contract is one line: a multi-line message (e.g. from a library) is joined with ' | '."""
    return " | ".join(line.strip() for line in message.splitlines() if line.strip())


def _silence_stdout() -> None:
    # Python flushes stdout at exit and would raise BrokenPipeError again; point it at devnull instead.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
