"""The static encoder: all-MiniLM-L6-v2 distilled into one vector per vocabulary token, the
way model2vec distils a sentence transformer, and run with model2vec's StaticModel (a text's
vector is the mean of its tokens' vectors).

Distillation (on first use, from the bundled weights, about 20 s on 2 cores; cached under
``DATA_DIR/models``; nothing is downloaded): every token of the model's vocabulary goes
through the transformer alone ("[CLS] token [SEP]"), its own output taken (a little better
on the dev benchmark than the mean of the three); the vectors are centred
and rotated onto their principal axes (PCA keeping all 384 dimensions), and weighted by
smooth inverse frequency, the token's rank in the vocabulary standing in for its frequency
(Zipf's law), so that common pieces count less. model2vec's own distiller does the same
steps but pins an older transformers than this project uses.

Encoding is a table lookup and a mean: ~40,000 texts/s on this CPU against ~160 for the
torch model, at the same F1 on the dev benchmark under hybrid matching (bench/encoders.py,
bench/dedup_quality.py).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from jobcore.dedup.encoders import MODEL_LOAD, _bundled_model_path, _minilm, build_once
from jobcore.heap import kept_for_good
from jobcore.schema import EMBEDDING_DIMENSIONS
from jobcore.warmup import one_time_load

if TYPE_CHECKING:
    from model2vec import StaticModel

STATIC_MODEL = "all-MiniLM-L6-v2-static"
SIF_COEFFICIENT = 1e-4  # model2vec's default
DISTIL_BATCH = 2048


class StaticMiniLM:
    """all-MiniLM-L6-v2 as a static model (see the module docstring)."""

    model_name = STATIC_MODEL

    def __init__(self, model_dir: Path) -> None:
        self._path = model_dir / STATIC_MODEL
        self._model = None
        self._fallback: np.ndarray | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Read the model (distilled first if it was never built); once per process, kept
        out of the garbage collector's walks (jobcore.heap). The distillation runs outside
        that, so nothing it leaves behind is kept.
        """
        with self._lock:  # pages and API threads may share the provider
            if self._model is not None:
                return
            with one_time_load(MODEL_LOAD):
                build_once(self._path, distil_static_model, "static encoder")
                with kept_for_good():
                    model = _read_static_model(self._path)
            unknown = model.embedding[model.unk_token_id or 0]
            self._fallback = unknown / max(float(np.linalg.norm(unknown)), 1e-12)
            self._model = model  # published last

    def encode(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self.encode_array(texts).tolist()

    def encode_array(self, texts: list[str]) -> np.ndarray:
        """``encode`` as a float32 array (len(texts) x 384), for callers that compute on it."""
        if self._model is None:
            self.load()
        vectors = self._model.encode(texts, show_progress_bar=False, use_multiprocessing=False)
        vectors = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1)
        vectors[norms < 1e-9] = self._fallback  # no known token: the unknown token's vector
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / norms


def _read_static_model(path: Path) -> StaticModel:
    """The static model saved at ``path``, built from its three files as model2vec's
    ``from_pretrained`` builds it, without the Hugging Face hub client that loader imports
    to read a model card (half a second of every command's start).
    """
    from model2vec import StaticModel
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    return StaticModel(vectors=load_file(str(path / "model.safetensors"))["embeddings"],
                       tokenizer=Tokenizer.from_file(str(path / "tokenizer.json")),
                       config=config, normalize=config["normalize"],
                       max_length=config["max_length"])


def distil_static_model(target: Path) -> None:
    """Distil the bundled all-MiniLM-L6-v2 into a model2vec static model at ``target``."""
    import torch
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    transformer = _minilm()[0].auto_model.eval()
    tokenizer = Tokenizer.from_file(str(_bundled_model_path() / "tokenizer.json"))
    tokenizer.no_padding()  # the file pads and truncates to 128 tokens
    tokenizer.no_truncation()
    size = tokenizer.get_vocab_size()
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    vectors = np.zeros((size, EMBEDDING_DIMENSIONS), dtype=np.float64)
    with torch.inference_mode():
        for start in range(0, size, DISTIL_BATCH):
            ids = torch.arange(start, min(size, start + DISTIL_BATCH))
            batch = torch.stack([torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)],
                                dim=1)
            hidden = transformer(input_ids=batch, attention_mask=torch.ones_like(batch),
                                 token_type_ids=torch.zeros_like(batch)).last_hidden_state
            vectors[start:start + len(ids)] = hidden[:, 1].numpy()  # the token's own output
    centred = vectors - vectors.mean(axis=0)
    _, axes = np.linalg.eigh(centred.T @ centred / (size - 1))
    rotated = centred @ axes[:, ::-1]
    inverse_rank = 1 / np.arange(2, size + 2)
    frequency = inverse_rank / inverse_rank.sum()
    weighted = rotated * (SIF_COEFFICIENT / (SIF_COEFFICIENT + frequency))[:, None]
    StaticModel(vectors=weighted.astype(np.float32), tokenizer=tokenizer,
                normalize=True).save_pretrained(str(target))
