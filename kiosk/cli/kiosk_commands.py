"""The kiosk's own commands: setting it up, the touchscreen and its engine, its settings.

    kiosk init [--demo]          the config, keys and database (safe to run twice)
    kiosk demo-seed / demo-mail  the demo's hosts and appointments, and its mailbox
    kiosk run                    the touchscreen, with its engine in a child process
    kiosk prepare-fonts          the touchscreen's font faces, ahead
    kiosk engine                 that child (`kiosk run` starts it itself)
    kiosk config show            the settings in force, secrets masked

Its background commands (`enroll`, `sync`, `notify`) are in kiosk.cli.sync.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from kiosk.cli.common import Commands, emit, open_kiosk, stop_on_signals


def cmd_init(args: argparse.Namespace) -> int:
    from kiosk.app import init_kiosk

    result = init_kiosk(
        args.config,
        site_name=args.site_name,
        data_dir=args.data_dir,
        keys_dir=args.keys_dir,
        demo=args.demo,
    )
    done = [f"  created {item}" for item in result.created]
    done += [f"  updated {item} with the demo's settings" for item in result.updated]
    created = "\n".join(done) or "  nothing to do"
    emit(args, result, f"Kiosk {result.kiosk_id} at {result.config_path}\n{created}")
    return 0


def cmd_demo_seed(args: argparse.Namespace) -> int:
    from kiosk.demo import seed_demo

    kiosk = open_kiosk(args)
    result = seed_demo(kiosk)
    from kiosk.demo import DEMO_PINS

    lines = [f"{result.hosts} hosts, {result.appointments} appointments added for today"]
    lines.append(f"staff PINs: guard {DEMO_PINS['guard']}, admin {DEMO_PINS['admin']}")
    lines += [f"  invitation for {name}: {token}" for name, token in result.invitations]
    emit(args, result, "\n".join(lines))
    return 0


def cmd_demo_mail(args: argparse.Namespace) -> int:
    """The demo's mailbox (kiosk.demo_mail) until SIGTERM or Ctrl+C."""
    import logging

    from kiosk.config import config_path
    from kiosk.demo_mail import DEMO_MAIL_PORT, mail_folder_for, start_demo_mail

    folder = Path(args.folder) if args.folder else mail_folder_for(config_path(args.config))
    port = args.port or DEMO_MAIL_PORT
    logging.basicConfig(level=logging.INFO, format="kiosk demo-mail: %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's every SMTP step
    mailbox = start_demo_mail(folder, port)
    stop = stop_on_signals()
    print(f"kiosk demo-mail: every message to {mailbox.hostname}:{port} lands in {folder}/")
    sys.stdout.flush()
    stop.wait()
    mailbox.stop()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The touchscreen, in this process, and its engine in a child (`kiosk engine`): see
    kiosk.engine_link for why two. Nothing heavier than Kivy is imported here."""
    from kiosk.engine_link import EngineLaunch
    from kiosk.ui.incomplete import provision_failure, run_incomplete_screen

    failure = provision_failure()  # first-boot provisioning stopped: no half-set-up kiosk
    if failure is not None:
        run_incomplete_screen(
            failure, size=args.size, fullscreen=args.fullscreen, font_path=args.font
        )
        return 0
    engine_command = [sys.executable, "-m", "kiosk", "engine"]
    if args.config:
        engine_command += ["--config", args.config]
    launch = EngineLaunch(engine_command)  # it starts while Kivy is imported here

    from kiosk.ui.app import run_kiosk, stop_running_app
    from kiosk.ui.services import KioskServices

    lost = threading.Event()

    def engine_lost() -> None:
        lost.set()
        stop_running_app()

    services = launch.wait(on_lost=engine_lost)
    try:
        # RemoteServices forwards every method of the protocol by name (see engine_link).
        run_kiosk(
            cast("KioskServices", services),
            size=args.size,
            fullscreen=args.fullscreen,
            font_path=args.font,
        )
    finally:
        engine_exit = services.close()
    # systemd stops the service with SIGTERM to both processes, and the engine, exiting 0,
    # may go first: only an engine that failed or was killed makes this a failure.
    if lost.is_set() and engine_exit != 0:
        print("error: the kiosk engine stopped; see its messages above", file=sys.stderr)
        return 1
    return 0


def cmd_prepare_fonts(args: argparse.Namespace) -> int:
    """Prepare the touchscreen's font faces ahead (see kiosk.ui.fonts): once per machine,
    and again only when the font package changes; with a progress bar, or in the
    background (kiosk.ui.font_progress)."""
    from kiosk.ui.font_progress import prepare_fonts_command

    return prepare_fonts_command(args.font, background=args.background, holding=args.hold_lock)


def cmd_engine(args: argparse.Namespace) -> int:
    """The engine's process of `kiosk run`: the check-in engine, the database and the
    devices, serving the touchscreen over the link it was handed."""
    import logging

    from kiosk.engine_link import serve_engine
    from kiosk.ui import lean_process

    lean_process()  # before peewee: no PostgreSQL driver on a kiosk
    logging.basicConfig(level=logging.INFO, format="kiosk engine: %(levelname)s %(message)s")

    @contextlib.contextmanager
    def open_services() -> Iterator[Any]:
        from kiosk.app import KioskServices

        kiosk = open_kiosk(args)
        try:
            services = KioskServices(kiosk)  # opens the configured camera and printer
            try:
                yield services
            finally:
                services.close()
        finally:
            kiosk.close()

    return serve_engine(args.link_fd, open_services)


def cmd_config_show(args: argparse.Namespace) -> int:
    from kiosk.config import load_config, masked_dict

    config = load_config(args.config)
    data = masked_dict(config)
    emit(args, data, lambda: json.dumps(data, ensure_ascii=False, indent=2, default=str))
    return 0


def _window_size(text: str) -> tuple[int, int]:
    from kiosk.ui.window_size import parse_size

    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def register(commands: Commands) -> None:
    """Add the kiosk's own commands: init, demo-seed, demo-mail, run, prepare-fonts,
    engine, config."""
    init = commands.add(
        "init", cmd_init, "create the config, keys and database (safe to run twice)"
    )
    init.add_argument("--site-name", default="International Tower")
    init.add_argument("--data-dir", default="data", help="relative to the config file's folder")
    init.add_argument("--keys-dir", default="keys", help="relative to the config file's folder")
    init.add_argument(
        "--demo",
        action="store_true",
        help="the demo site's settings (`make run`): open at any hour, mail to `kiosk demo-mail`",
    )

    commands.add("demo-seed", cmd_demo_seed, "add demo hosts and today's appointments")
    demo_mail = commands.add(
        "demo-mail", cmd_demo_mail, "the demo's local mailbox: each message as an .eml file"
    )
    demo_mail.add_argument("--port", type=int, help="on 127.0.0.1 (default 8025)")
    demo_mail.add_argument("--folder", help="default: mail/ beside the kiosk.toml")
    run = commands.add("run", cmd_run, "start the touchscreen kiosk")
    run.add_argument(
        "--size",
        type=_window_size,
        help="window size like 800x480 (default, and with --fullscreen: the screen's size)",
    )
    run.add_argument("--fullscreen", action="store_true")
    run.add_argument("--font", help="a CJK font file (default: found through fontconfig)")
    prepare = commands.add(
        "prepare-fonts", cmd_prepare_fonts, "prepare the touchscreen's fonts (once, ~1 min)"
    )
    prepare.add_argument("--font", help="the CJK font file `kiosk run --font` is given")
    prepare.add_argument(
        "--background", action="store_true", help="prepare them in a process of its own and return"
    )
    prepare.add_argument("--hold-lock", action="store_true", help=argparse.SUPPRESS)
    engine = commands.add("engine", cmd_engine, "the engine of `kiosk run` (it starts this itself)")
    engine.add_argument("--link-fd", type=int, required=True, help="its end of the socket pair")

    config_commands = commands.group("config", "configuration", "config_command")
    commands.add(
        "show", cmd_config_show, "print the settings in force, secrets masked", config_commands
    )
