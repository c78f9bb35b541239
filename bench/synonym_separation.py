"""Can an embedding tell a segment written in other words from a near miss?

Reads the hand-written segment-name pairs (``a, b, duplicate, kind``; see
../shared/data/segment_pairs_dev, never copied into the project), embeds both names of each
pair as a sweep embeds a topic (``embeddings.embedding_text``, no description or
classification) with each encoder, and prints, per encoder, the cosine of every duplicate
the names' words do not show (kinds ``wording`` and ``abbreviation``) against the highest
cosine among the near misses that no guard refuses (jobcore.dedup.guards: a different
band, version, market or generation is refused whatever the embedding says), and how many
of those duplicates a semantic threshold could take without taking one of those near
misses.

    python bench/synonym_separation.py --pairs ../shared/data/segment_pairs_dev/pairs_dev.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobcore.classify.taxonomy import Classification
from jobcore.config import Settings
from jobcore.dedup.embeddings import embedding_text
from jobcore.dedup.encoders import _provider
from jobcore.dedup.guards import markers, refusal

UNSEEN_BY_WORDS = ("wording", "abbreviation")
NO_CLASSIFICATION = Classification(None, None, None, None, None)


def _cosines(encoder: str, pairs: list[dict[str, str]]) -> list[float]:
    settings = Settings()
    provider = _provider(encoder, settings.embedding_base_url, settings.embedding_api_key,
                         settings.embedding_model)
    texts = [embedding_text(row[side], None, NO_CLASSIFICATION)
             for row in pairs for side in ("a", "b")]
    vectors = np.asarray(provider.encode(texts), dtype=np.float64).reshape(len(pairs), 2, -1)
    return [float(a @ b) for a, b in vectors]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, required=True)
    parser.add_argument("--encoders", default="static,torch")
    args = parser.parse_args()
    with args.pairs.open(newline="", encoding="utf-8") as handle:
        pairs = list(csv.DictReader(handle))
    for encoder in args.encoders.split(","):
        cosines = _cosines(encoder, pairs)
        misses = sorted(((c, row) for c, row in zip(cosines, pairs, strict=True)
                         if row["duplicate"] == "0"
                         and refusal(markers(row["a"]), markers(row["b"])) is None),
                        key=lambda item: -item[0])
        unseen = sorted(((c, row) for c, row in zip(cosines, pairs, strict=True)
                         if row["duplicate"] == "1" and row["kind"] in UNSEEN_BY_WORDS),
                        key=lambda item: -item[0])
        ceiling, worst = misses[0]
        print(f"{encoder}: highest near miss no guard refuses {ceiling:.3f} [{worst['kind']}] "
              f"{worst['a']!r} ~ {worst['b']!r}")
        for cosine, row in unseen:
            print(f"  {cosine:.3f} [{row['kind']}] {row['a']!r} ~ {row['b']!r}")
        above = sum(1 for cosine, _ in unseen if cosine > ceiling)
        print(f"  a semantic threshold that proposes none of those {len(misses)} near misses "
              f"takes {above} of {len(unseen)} such duplicates")


if __name__ == "__main__":
    main()
