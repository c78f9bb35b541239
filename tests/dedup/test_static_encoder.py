"""The static encoder: distilled locally from the bundled model, batch-independent, close to
the torch model on what matters for dedup."""

from __future__ import annotations

import numpy as np

from jobcore.config import get_settings
from jobcore.dedup.encoders import LocalMiniLM
from jobcore.dedup.static_encoder import STATIC_MODEL, StaticMiniLM


def _encoder() -> StaticMiniLM:
    return StaticMiniLM(get_settings().data_dir / "models")  # built once, then cached


def test_vectors_are_unit_length_and_do_not_depend_on_the_batch():
    encoder = _encoder()
    alone = np.array(encoder.encode(["Luxury SUV Intenders"]))
    batched = np.array(encoder.encode(["Golf Fans", "Luxury SUV Intenders", "x" * 2000]))
    assert alone.shape == (1, 384) and batched.shape == (3, 384)
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(alone[0], batched[1])
    assert (get_settings().data_dir / "models" / STATIC_MODEL).is_dir()


def test_a_text_without_known_tokens_still_gets_a_unit_vector():
    vector = np.array(_encoder().encode(["\u2603\u2603"])[0])
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-5)


def test_it_ranks_neighbours_as_the_torch_model_does():
    texts = ["Luxury SUV Intenders", "In-Market for Luxury SUVs", "Golf Enthusiasts",
             "People Interested in Golf", "Household Income $50,000-$74,999"]
    static, torch = (np.array(e.encode(texts)) for e in (_encoder(), LocalMiniLM()))
    for vectors in (static, torch):
        similarity = vectors @ vectors.T
        np.fill_diagonal(similarity, -1)
        assert similarity.argmax(axis=1).tolist()[:4] == [1, 0, 3, 2]
