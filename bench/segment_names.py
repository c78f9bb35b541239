"""The segment-name parser's speed: names/s over real names (the development set, read from
../shared/data/segments_dev and never copied) and the same names rewritten in other
notations (separators "»", "|", " - ", ":"; markets; bands written several ways), so that
every branch of the parser is timed. Nine passes on one core: the best and the median
(this machine's speed varies by a third from run to run).

    python bench/segment_names.py [--data ../shared/data/segments_dev/segments_dev.csv]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobcore.catalog.segment_names import parse

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/segments_dev/segments_dev.csv"
MARKETS = ("", " - US", " (UK)", " - DE", "", " United States")
SEPARATORS = (" > ", " » ", " | ", " / ", ": ")
EXTRA = ("Household Income $50K-$75K", "Adults 25 to 34", "Age 65 and over", "$100,000 or more",
         "1-10 employees", "Gen Z Shoppers", "HP F3H982-10 Toner Buyers", "Windows 11 v2.1 Users",
         "Top 10% Spenders", "< $30K HHI", "Household size 3+", "Millennial Moms")


def variants(names: list[str]) -> list[str]:
    """The names as written, then rewritten with other separators and markets."""
    out = list(names) + list(EXTRA)
    for i, name in enumerate(names):
        parts = [p.strip() for p in name.replace("/", ">").split(">") if p.strip()]
        separator = SEPARATORS[i % len(SEPARATORS)]
        out.append(("US: " if i % 7 == 0 else "") + separator.join(parts)
                   + MARKETS[i % len(MARKETS)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    with args.data.open(newline="", encoding="utf-8") as handle:
        names = variants([row["name"] for row in csv.DictReader(handle)])
    batch = names * args.repeat
    rates = []
    for _ in range(9):
        started = time.perf_counter()
        for name in batch:
            parse(name)
        rates.append(len(batch) / (time.perf_counter() - started))
    print(f"{len(names):,} distinct names ({len(batch):,} parsed a pass): best "
          f"{max(rates):,.0f} names/s, median {statistics.median(rates):,.0f} "
          "(target >= 50,000)")


if __name__ == "__main__":
    main()
