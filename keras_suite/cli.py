"""`keras-suite <app> <command> [--config FILE ...] [key=value ...]` and `keras-suite list`."""

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path

from keras_suite.apps import APPS
from keras_suite.config import describe, split_overrides
from keras_suite.console import native_stderr_silenced
from keras_suite.errors import EnvironmentFailure, UserError, environment_failure, shorten
from keras_suite.files import storage_errors

CONFIG_DIR = Path(__file__).parent / "configs"


def _resolve_config(app, name):
    """A config path, or a bare name (`tiny`) looked up in the app's shipped configs."""
    path = Path(name)
    if not path.exists() and path.suffix == "" and len(path.parts) == 1:
        shipped = CONFIG_DIR / app / f"{name}.yaml"
        if shipped.exists():
            return shipped
    return path


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr with exit code 2."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _commands(app):
    """The app's commands, what each does and its arguments, for `<app> --help`."""
    width = max(len(name) for name in app.commands)
    lines = []
    for name, command in app.commands.items():
        arguments = [f"{a}=..." for a in command.required] + [f"[{a}=...]" for a in command.optional]
        lines.append(f"  {name:<{width}}  {command.help}")
        if arguments:
            lines.append(f"  {'':<{width}}  {' '.join(arguments)}")
    lines.append(f"\n`keras-suite {app.name} <command> --help` lists a command's arguments and the config it reads.")
    return "\n".join(lines)


def command_help(app, name):
    """`keras-suite <app> <command> --help`: what the command does, its arguments (required ones marked, short
    ones with the config key they set) and every config section with its defaults and accepted values."""
    command = app.commands[name]
    usage = [f"{a}={app.hint(a)}" for a in command.required] + [f"[{a}=...]" for a in command.optional]
    lines = [f"usage: keras-suite {app.name} {name} {' '.join(usage)} [--config FILE ...] [section.key=value ...]",
             "", command.help]
    if command.arguments:
        width = max(len(a) for a in command.arguments)
        lines += ["", "arguments:"]
        for argument in command.arguments:
            hint = app.hint(argument)
            what = (f"required: {hint}" if argument in command.required
                    else "optional" + (f": {hint}" if hint != "..." else ""))
            if argument in app.aliases:
                what += f", sets {app.aliases[argument]}"
            lines.append(f"  {argument:<{width}}  {what}")
    lines += ["", "config, with its defaults (change with --config FILE or section.key=value):",
              *describe(app.config_cls)]
    return "\n".join(lines)


def _parser(apps):
    parser = _Parser(prog="keras-suite", description="Train, evaluate and export Keras task apps.")
    sub = parser.add_subparsers(dest="app", required=True, metavar="{list,demo," + ",".join(apps.names()) + "}",
                                parser_class=_Parser)
    sub.add_parser("list", help="list the apps and what each does")
    demo = sub.add_parser("demo", help="train every app briefly, show it at work, export it; a summary and a report")
    demo.add_argument("--apps", default=",".join(apps.names()), help="the apps to visit, comma-separated")
    demo.add_argument("--runs", default="runs/demo", help="where the runs, exports and report.html go")
    demo.add_argument("--config", default="demo", help="the shipped config each app trains with (demo, tiny)")
    for name in apps.names():
        app = apps.get(name)
        p = sub.add_parser(name, help=app.description, description=app.description,
                           epilog=f"commands:\n{_commands(app)}", formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("command", choices=list(app.commands))
        p.add_argument("--config", action="append", default=[], metavar="FILE",
                       help="YAML config (or a shipped name such as 'tiny'); repeat to merge in order")
        p.add_argument("args", nargs="*", metavar="key=value",
                       help="dotted config overrides (train.epochs=3) and command arguments (run=DIR)")
    return parser


def _list(apps):
    width = max(len(n) for n in apps.names())
    for name in apps.names():
        app = apps.get(name)
        print(f"{name:<{width}}  {app.description}  [{', '.join(app.commands)}]")


def main(argv=None):
    """Run one command; exit code 0, 2 (bad input), 3 (the machine failed: disk, permissions, memory) or 130
    (interrupted). `list` and `--help` answer without importing TensorFlow."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    argv = sys.argv[1:] if argv is None else list(argv)
    spec = APPS.get(argv[0]) if argv and argv[0] in APPS else None
    if spec is not None and len(argv) >= 2 and argv[1] in spec.commands and {"-h", "--help"} & set(argv):
        print(command_help(spec, argv[1]))
        return 0
    parser = _parser(APPS)
    args, extra = parser.parse_known_args(argv)
    for arg in extra:  # key=value pairs given after --config land here
        if arg.startswith("-") or not hasattr(args, "args"):
            parser.error(f"unrecognized argument: {arg}")
        args.args.append(arg)
    if args.app == "list":
        _list(APPS)
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    warnings.filterwarnings("ignore", message=r".*tf.lite.Interpreter is deprecated.*")
    with native_stderr_silenced():
        import keras  # noqa: F401 - its first import prints native notices too
        import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # "Assets written to ..." on every SavedModel write
    app = None
    try:
        if args.app == "demo":
            from keras_suite.tour import tour

            names = [a.strip() for a in args.apps.split(",") if a.strip()]
            for name in names:
                APPS.get(name)
            return 1 if any(stop.error for stop in tour(names, args.runs, args.config)) else 0
        app = APPS.get(args.app).load()()
        dotted, plain = split_overrides(args.args)
        app.run(args.command, [_resolve_config(args.app, c) for c in args.config], dotted, plain)
        return 0
    except UserError as e:
        print(f"error: {shorten(e, 1000)}", file=sys.stderr)
        return 2
    except EnvironmentFailure as e:
        print(f"error: {shorten(e, 1000)}", file=sys.stderr)
        return 3
    except storage_errors() as e:
        print(f"error: {environment_failure(e)}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        run = getattr(app, "training", None)
        hint = f"; continue with: keras-suite {args.app} train resume={run}" if run is not None else ""
        print(f"interrupted{hint}", file=sys.stderr)
        return 130


def run_and_exit():
    """The `keras-suite` process: `main()`, then exit with its code. After an error line nothing else is printed:
    not even what TensorFlow's threads may leave at teardown (a collective-ops pool of a lost multi-worker
    cluster writing to a pipe already closed, "Exception ignored in: Pool.__del__"). Output piped into a reader
    that stops early (`| head`) ends the command quietly, as other command-line tools do."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to the closed pipe at exit
        code = 141  # 128 + SIGPIPE, what a shell reports for such a command
    if code:
        sys.unraisablehook = lambda unraisable: None
    sys.exit(code)


if __name__ == "__main__":
    run_and_exit()
