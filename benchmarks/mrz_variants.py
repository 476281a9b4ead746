"""How the MRZ reader's order of variants (kiosk.devices.mrz_ocr.VARIANTS) was chosen, to run
again when the model, the preprocessing or the budget changes. Not part of `make bench`.

1. `collect SEED [FRAMES]`: every candidate variant read on every frame of a synthetic set,
   with its CPU time, the second opinion's, and its outcome (right, wrong, contradicted,
   unsure, none), written to build/mrz-variants/SEED.json.
2. `search TRAIN_SEEDS TEST_SEEDS`: a beam search over orders of the candidates that replays
   read_mrz_text's budget rule on the collected reads, maximising the frames read on the
   training sets; prints the best orders with their reads on the held-out sets.

    .venv/bin/python benchmarks/mrz_variants.py collect 9303
    .venv/bin/python benchmarks/mrz_variants.py search 9303,1 2,3
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from kiosk.devices import mrz_ocr
from kiosk.devices.mrz_ocr import Variant

OUT = Path(__file__).resolve().parents[1] / "build" / "mrz-variants"
CANDIDATES = (
    *mrz_ocr.VARIANTS,
    Variant(1.0, 0.5, 24, "gray"),
    Variant(1.0, 0.8, 32, "gray"),
    Variant(1.5, 0.3, 20, "otsu"),
    Variant(1.0, 0.5, 28, "otsu"),
)


def collect(seed: int, frames: int = 200) -> None:
    from kiosk.devices.decoders import to_gray
    from kiosk.devices.identity import parse_mrz
    from kiosk.devices.synthetic_mrz import sample_frames

    ocr = mrz_ocr.shared_mrz_ocr()
    rows: list[dict[str, Any]] = []
    for truth, frame in sample_frames(frames, seed):
        started = time.thread_time()
        gray = to_gray(frame)
        bands = mrz_ocr.locate_mrz_bands(gray)
        reads: list[dict[str, Any]] = []
        row = {"locate": time.thread_time() - started, "reads": reads}
        for band in bands:
            for variant in CANDIDATES:
                before = time.thread_time()
                crop = mrz_ocr.cut_band(
                    gray, band, variant.pad_x, variant.pad_y, variant.char_height
                )
                image = mrz_ocr.binarise(crop, variant.threshold)
                checked = mrz_ocr.checked_mrz(ocr(image))
                read_done = time.thread_time()
                outcome, opinion_s = "none", 0.0
                if checked is not None and not checked.sure:
                    outcome = "unsure"
                elif checked is not None:
                    opinion = ocr.second_opinion(image)
                    opinion_s = time.thread_time() - read_done
                    right = parse_mrz(checked.text, b"x") == parse_mrz(truth.text, b"x")
                    if mrz_ocr.contradicted(checked.text, opinion) or checked.ambiguous:
                        outcome = "refused"
                    else:
                        outcome = "right" if right else "wrong"
                reads.append({"read_s": read_done - before, "opinion_s": opinion_s, "out": outcome})
        rows.append(row)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{seed}.json").write_text(json.dumps(rows))


def replay(rows: list[dict[str, Any]], order: list[int]) -> tuple[int, int]:
    """(right, wrong) frames when the variants are tried in `order` under the budget rule."""
    right = wrong = 0
    count = len(CANDIDATES)
    for row in rows:
        bands = len(row["reads"]) // count
        spent, slowest_read, slowest_opinion = row["locate"], 0.0, 0.0
        for read in (row["reads"][b * count + v] for b in range(bands) for v in order):
            guess = slowest_opinion or slowest_read * mrz_ocr.OPINION_SHARE
            if spent + slowest_read + guess > mrz_ocr.ATTEMPT_BUDGET_S:
                break
            spent += read["read_s"] + read["opinion_s"]
            slowest_read = max(slowest_read, read["read_s"])
            slowest_opinion = max(slowest_opinion, read["opinion_s"])
            if read["out"] in ("right", "wrong"):
                right += read["out"] == "right"
                wrong += read["out"] == "wrong"
                break
    return right, wrong


def search(train: list[int], test: list[int], depth: int = 7, width: int = 12) -> None:
    data = {seed: json.loads((OUT / f"{seed}.json").read_text()) for seed in train + test}

    def score(order: list[int]) -> tuple[int, int]:
        results = [replay(data[seed], order) for seed in train]
        return sum(r for r, _ in results), -sum(w for _, w in results)

    beam: list[list[int]] = [[]]
    found: list[tuple[tuple[int, int], list[int]]] = []
    for _ in range(depth):
        grown = [
            (score([*order, v]), [*order, v])
            for order in beam
            for v in range(len(CANDIDATES))
            if v not in order
        ]
        grown.sort(reverse=True)
        beam = [order for _, order in grown[:width]]
        found.extend(grown[:width])
    found.sort(reverse=True)
    for (right, minus_wrong), order in found[:5]:
        held_out = [replay(data[seed], order) for seed in test]
        shown = [CANDIDATES[v] for v in order]
        print(f"train {right} read, {-minus_wrong} wrong; held out {held_out}: {shown}")
    print("as now:", [replay(data[seed], list(range(len(mrz_ocr.VARIANTS)))) for seed in test])


if __name__ == "__main__":
    if sys.argv[1] == "collect":
        collect(int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 200)
    else:
        search([int(s) for s in sys.argv[2].split(",")], [int(s) for s in sys.argv[3].split(",")])
