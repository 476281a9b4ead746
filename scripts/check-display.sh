#!/usr/bin/env bash
# Tell, before starting the kiosk, whether it has a screen to open a window on.
#
# A desktop session sets DISPLAY or WAYLAND_DISPLAY; the Pi's console has no X and Kivy's
# SDL2 draws straight on the screen through KMS (/dev/dri). With neither, Kivy would fail
# deep in SDL2, so say plainly what to do instead.
set -euo pipefail

if [[ -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ]]; then
    exit 0
fi
if [[ -n "${SDL_VIDEODRIVER:-}" ]]; then
    exit 0  # the caller chose a video driver (kmsdrm on the Pi, for instance)
fi
if compgen -G '/dev/dri/card*' >/dev/null && tty -s && [[ "$(tty)" == /dev/tty[0-9]* ]]; then
    exit 0  # a local console with a GPU: SDL2 uses KMS
fi

cat >&2 <<'MSG'
make run: there is no screen to open the kiosk window on (DISPLAY and WAYLAND_DISPLAY are
unset and this is not a local console with /dev/dri).

  * On a desktop, run `make run` from a terminal inside the graphical session.
  * On the Raspberry Pi, run it on the touchscreen's console (tty1), or set
    SDL_VIDEODRIVER=kmsdrm.
  * To check that it starts on a machine with no screen, use a virtual one:

        xvfb-run -a -s "-screen 0 1280x800x24" make run

    (xvfb-run comes with `make bootstrap`; the window is invisible, stop it with Ctrl+C.)
MSG
exit 2
