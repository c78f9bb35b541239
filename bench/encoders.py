"""Encoder speed and agreement: the torch model against the int8 ONNX model, side by side.

In a fresh database: the demo catalogue (2,000 topics by default). The same 2,000
embedding texts (name, description, classification path) are encoded by each encoder, in
the same run, three rounds alternating; prints the median texts/s of each, the ratio, and
how close the ONNX vectors are to the torch ones (cosine). The ONNX model is built first
when it is not cached (its build time is printed apart).

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
    torch_model = LocalMiniLM()
    onnx_model = OnnxMiniLM(get_settings().data_dir / "models")
    started = time.perf_counter()
    onnx_model.encode(texts[:1])  # builds (or loads) the ONNX model
    torch_model.encode(texts[:1])  # loads the torch model
    print(f"setup (ONNX build when not cached, both models loaded): "
          f"{time.perf_counter() - started:.1f} s")
    rates: dict[str, list[float]] = {"torch": [], "onnx": []}
    vectors = {}
    for _ in range(ROUNDS):
        for name, model in (("torch", torch_model), ("onnx", onnx_model)):
            started = time.perf_counter()
            vectors[name] = np.array(model.encode(texts))
            rates[name].append(len(texts) / (time.perf_counter() - started))
    torch_rate, onnx_rate = (statistics.median(rates[n]) for n in ("torch", "onnx"))
    cosine = (vectors["torch"] * vectors["onnx"]).sum(axis=1)
    print(f"{len(texts):,} embedding texts, {ROUNDS} rounds alternating")
    print(f"torch fp32 (sentence-transformers): median {torch_rate:,.0f} texts/s")
    print(f"onnx int8 (onnxruntime):            median {onnx_rate:,.0f} texts/s")
    print(f"ratio onnx / torch: {onnx_rate / torch_rate:.1f}x (issue target: 10x)")
    print(f"cosine onnx vs torch: min {cosine.min():.4f}, mean {cosine.mean():.4f}")


if __name__ == "__main__":
    main()
