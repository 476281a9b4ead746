"""`make bench`: run every benchmarks/bench_*.py and print one table, then the same as JSON.

Each module offers `run() -> list[dict]`; a row has a "name", a "median_ms" (or None) and
whatever else it measured (ratios against a baseline measured in the same run, targets,
"ok"). The JSON is also written to build/bench.json for machines.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(selected: list[str]) -> int:
    sys.path.insert(0, str(HERE.parent))
    results: dict[str, list[dict[str, object]]] = {}
    for path in sorted(HERE.glob("bench_*.py")):
        if selected and path.stem.removeprefix("bench_") not in selected:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        started = time.perf_counter()
        print(f"== {path.stem} ...", file=sys.stderr, flush=True)
        results[path.stem] = module.run()
        print(f"   {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    failed = 0
    for suite, rows in results.items():
        print(f"\n{suite}")
        for row in rows:
            median = row.get("median_ms")
            shown = "" if median is None else f"{median:10.3f} ms"
            verdict = {True: "ok", False: "MISSED"}.get(row.get("ok"), "")  # type: ignore[arg-type]
            failed += verdict == "MISSED"
            extra = ", ".join(
                f"{k}={v}" for k, v in row.items() if k not in ("name", "median_ms", "ok")
            )
            print(f"  {row['name']:<66} {shown:>14}  {verdict:<6} {extra}")
    output = HERE.parent / "build" / "bench.json"
    output.parent.mkdir(exist_ok=True)
    output.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    print("\n" + json.dumps(results, ensure_ascii=False, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
