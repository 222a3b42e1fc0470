"""The verifier's labelled pairs: RealTime QA passages are stored as references (never as text) and rebuilt
from the data folder at run time, checked against their sha256; the bundled article's pairs keep their text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from eval.benchmark import default_data_dir
from eval.verification.pairs import load_pairs, reference
from rag.errors import InputError
from rag.pipeline import BUNDLED_CORPUS

PAIRS = Path(__file__).resolve().parents[2] / "eval" / "verification" / "pairs.jsonl"
ARTICLE = "Storms closed the harbour. The council approved 4.2 million dollars for repairs. Boats returned."
URL = "https://news.example/2022/06/harbour"


def _stored() -> list[dict[str, Any]]:
    return [json.loads(line) for line in PAIRS.read_text("utf-8").splitlines() if line.strip()]


def _rtqa(folder: Path, text: str = ARTICLE) -> Path:
    folder.mkdir(exist_ok=True)
    other = {"id": "https://news.example/other", "text": "Unrelated."}
    lines = [json.dumps(other), json.dumps({"id": URL, "url": URL, "title": "Harbour", "text": text})]
    (folder / "articles-gold.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    return folder


def _write_pairs(path: Path, *pairs: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(p) + "\n" for p in pairs), "utf-8")
    return path


PASSAGE = "The council approved 4.2 million dollars for repairs. Boats returned."
WRITTEN = {"id": "g0-0", "group": 0, "source": URL, **reference(ARTICLE, PASSAGE),
           "sentence": "The council set aside 4.2 million dollars for repairs.", "label": "supported",
           "kind": "paraphrase"}
COPIED = {"id": "g0-1", "group": 0, "source": URL, **reference(ARTICLE, PASSAGE),
          **reference(ARTICLE, "Boats returned.", "sentence_"), "label": "supported", "kind": "exact"}
BUNDLED = {"id": "b0-0", "group": 1, "source": "corpus/a.txt", "passage": "Cats purr.", "sentence": "Cats purr.",
           "label": "supported", "kind": "exact"}


def test_references_are_resolved_from_the_data_folder(tmp_path: Path) -> None:
    pairs = load_pairs(_write_pairs(tmp_path / "p.jsonl", WRITTEN, COPIED, BUNDLED), _rtqa(tmp_path / "rtqa"))

    assert [p["passage"] for p in pairs] == [PASSAGE, PASSAGE, "Cats purr."]
    assert [p["sentence"] for p in pairs] == [WRITTEN["sentence"], "Boats returned.", "Cats purr."]
    assert all(p["source"] == URL for p in pairs[:2])


def test_a_changed_article_is_detected(tmp_path: Path) -> None:
    changed = _rtqa(tmp_path / "rtqa", ARTICLE.replace("4.2", "4.7"))  # same length, other text
    with pytest.raises(InputError, match=r"pair g0-0: characters 27-96 of .* no longer match the stored sha256"):
        load_pairs(_write_pairs(tmp_path / "p.jsonl", WRITTEN), changed)


def test_a_missing_folder_or_article_says_what_to_do(tmp_path: Path) -> None:
    pairs = _write_pairs(tmp_path / "p.jsonl", WRITTEN)
    with pytest.raises(InputError, match="Set NEWSDESK_RTQA_DIR"):
        load_pairs(pairs, tmp_path / "absent")
    stranger = {**WRITTEN, "source": "https://news.example/gone"}
    with pytest.raises(InputError, match=r"not in .*articles-gold\.jsonl"):
        load_pairs(_write_pairs(tmp_path / "q.jsonl", stranger), _rtqa(tmp_path / "rtqa"))


def test_bundled_pairs_alone_need_no_data_folder(tmp_path: Path) -> None:
    assert load_pairs(_write_pairs(tmp_path / "p.jsonl", BUNDLED), tmp_path / "absent")[0]["passage"] == "Cats purr."


def test_the_stored_set_holds_no_realtime_qa_text() -> None:
    pairs = _stored()
    rtqa = [p for p in pairs if not p["source"].startswith("corpus/")]
    assert len(pairs) == 320 and len(rtqa) == 283
    for pair in rtqa:
        assert "passage" not in pair, pair["id"]
        assert 0 <= pair["start"] < pair["end"] and re.fullmatch(r"[0-9a-f]{64}", pair["sha256"])
        if pair["kind"] == "exact":  # copied from the article: a reference too
            assert "sentence" not in pair and pair["start"] <= pair["sentence_start"] < pair["sentence_end"]
        else:
            assert pair["sentence"]
    article = next(BUNDLED_CORPUS.glob("*.txt")).read_text("utf-8")
    for pair in pairs:
        if pair["source"].startswith("corpus/"):
            assert pair["passage"] in article and pair["sentence"], pair["id"]


def test_the_stored_set_resolves_against_the_realtime_qa_data() -> None:
    folder = default_data_dir()
    if not (folder / "articles-gold.jsonl").is_file():
        pytest.skip(f"no RealTime QA data at {folder} (it lives beside the repository, never in it)")
    pairs = load_pairs(PAIRS, folder)  # raises if any span has changed

    rtqa = [p for p in pairs if not p["source"].startswith("corpus/")]
    assert len({p["passage"] for p in rtqa}) == 38
    for pair in rtqa:
        assert pair["sentence"] and pair["passage"]
        if pair["kind"] == "exact":
            assert pair["sentence"] in pair["passage"]
