"""Encoder speed: the old default (torch) against the static default and the int8 ONNX
model, side by side.

In a fresh database: the demo catalogue (2,000 topics by default). The same 2,000
embedding texts (name, description, classification path) are encoded by each encoder, in
the same run, three rounds alternating; prints the median texts/s of each and its ratio to
torch. The ONNX and static models are built first when they are not cached (the setup time
is printed apart). The static model's vectors are on their own scale (its quality is
measured on the dev benchmark: bench/dedup_quality.py); the ONNX ones' cosine to torch's is
printed.

    python bench/encoders.py [--topics 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from jobcore.catalog.demo import seed_demo  # noqa: E402
from jobcore.classify.taxonomy import Classification  # noqa: E402
from jobcore.config import get_settings  # noqa: E402
from jobcore.db import create_database, create_engine_for, drop_database, resolve_url  # noqa: E402
from jobcore.dedup.embeddings import embedding_text  # noqa: E402
from jobcore.dedup.encoders import LocalMiniLM, OnnxMiniLM  # noqa: E402
from jobcore.dedup.static_encoder import StaticMiniLM  # noqa: E402
from jobcore.schema import topics  # noqa: E402

DATABASE = "bench_encoders"
ROUNDS = 3


def _texts(count: int) -> list[str]:
    server = resolve_url()
    drop_database(server, DATABASE)
    engine = create_engine_for(create_database(server, DATABASE))
    try:
        seed_demo(engine, topics_count=count, seed=5)
        with engine.connect() as conn:
            rows = conn.execute(sa.select(
                topics.c.name, topics.c.description, topics.c.segment_type,
                topics.c.taxonomy_type, topics.c.parent_category, topics.c.subcategory,
                topics.c.audience_type).order_by(topics.c.id).limit(count)).all()
    finally:
        engine.dispose()
        drop_database(server, DATABASE)
    return [embedding_text(r.name, r.description, Classification(*r[2:7])) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=2000)
    texts = _texts(parser.parse_args().topics)
    models = {"torch": LocalMiniLM(),
              "static": StaticMiniLM(get_settings().data_dir / "models"),
              "onnx": OnnxMiniLM(get_settings().data_dir / "models")}
    started = time.perf_counter()
    for model in models.values():
        model.encode(texts[:1])  # builds (or loads) each model
    print(f"setup (static and ONNX builds when not cached, models loaded): "
          f"{time.perf_counter() - started:.1f} s")
    rates: dict[str, list[float]] = {name: [] for name in models}
    vectors = {}
    for _ in range(ROUNDS):
        for name, model in models.items():
            started = time.perf_counter()
            vectors[name] = np.array(model.encode(texts))
            rates[name].append(len(texts) / (time.perf_counter() - started))
    median = {name: statistics.median(r) for name, r in rates.items()}
    print(f"{len(texts):,} embedding texts, {ROUNDS} rounds alternating")
    print(f"torch fp32 (sentence-transformers, the old default): {median['torch']:,.0f} texts/s")
    print(f"static (distilled, the default): {median['static']:,.0f} texts/s = "
          f"{median['static'] / median['torch']:,.0f}x torch (issue target: 10x)")
    print(f"onnx int8 (onnxruntime): {median['onnx']:,.0f} texts/s = "
          f"{median['onnx'] / median['torch']:.1f}x torch")
    cosine = (vectors["torch"] * vectors["onnx"]).sum(axis=1)
    print(f"cosine onnx vs torch: min {cosine.min():.4f}, mean {cosine.mean():.4f}")


if __name__ == "__main__":
    main()
