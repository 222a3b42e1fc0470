"""Chunking: token windows at sentence ends, exact offsets, and never more than MiniLM reads."""

from __future__ import annotations

import itertools
import random
import string

import pytest

from ingest.chunking import chunk_article, chunk_spans
from rag.embedder import MiniLMEmbedder
from rag.records import Article, indexed_text
from rag.sentences import sentence_spans
from rag.tokens import count_tokens

_rng = random.Random(20220612)
SENTENCE = "The council approved the new budget after a long debate."  # 11 cl100k tokens
LONG_SENTENCE = " ".join(f"residents of district {n} asked for more buses and safer crossings" for n in range(60)) + "."
NO_SPACES = "".join(_rng.choice(string.ascii_letters + string.digits) for _ in range(5000))
CJK = "".join(chr(_rng.randint(0x4E00, 0x9FFF)) for _ in range(3000))
# Cyrillic costs MiniLM about twice the wordpieces cl100k counts tokens: the case the embedder check exists for.
RUSSIAN = " ".join(
    f"Правительство объявило о новых мерах поддержки экономики и энергетики в регионе номер {n}." for n in range(40)
)
URLS = " ".join(f"https://example.com/{n}/a-b_c?q={n * 7}&x=%2F{n}" for n in range(300))
MIXED = "\n\n".join(
    [SENTENCE * 3, LONG_SENTENCE, NO_SPACES[:1200], "Une phrase en français, avec des accents: éàü.", CJK[:400]]
)

EDGE_CASES = {
    "empty": "",
    "whitespace": "  \n\n\t ",
    "shorter-than-window": "Only one short sentence here.",
    "exact-multiple": " ".join([SENTENCE] * 20),
    "long-sentence": LONG_SENTENCE,
    "5000-char-word": NO_SPACES,
    "cjk": CJK,
    "russian": RUSSIAN,
    "urls": URLS,
    "mixed": MIXED,
}


@pytest.mark.unit
def test_doc_examples() -> None:
    assert chunk_spans("One. Two. Three.", max_tokens=4, overlap=0) == [(0, 9), (10, 16)]
    assert count_tokens(SENTENCE) == 11  # the exact-multiple case below relies on it


@pytest.mark.unit
@pytest.mark.parametrize("text", [EDGE_CASES["empty"], EDGE_CASES["whitespace"]], ids=["empty", "whitespace"])
def test_no_text_no_chunks(text: str) -> None:
    assert chunk_spans(text, 200, 40) == []


@pytest.mark.unit
def test_shorter_than_window_is_one_chunk_without_surrounding_space() -> None:
    text = "\n  Only one short sentence here.  \n"
    assert chunk_spans(text, 200, 40) == [(3, 32)]


@pytest.mark.unit
def test_exact_multiple_packs_full_windows() -> None:
    text = EDGE_CASES["exact-multiple"]  # 20 sentences of 11 tokens
    spans = chunk_spans(text, max_tokens=44, overlap=0)
    assert len(spans) == 5
    assert all(text[lo:hi].count(SENTENCE) == 4 for lo, hi in spans)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)


@pytest.mark.unit
def test_overlap_repeats_whole_trailing_sentences() -> None:
    text = EDGE_CASES["exact-multiple"]
    spans = chunk_spans(text, max_tokens=44, overlap=11)
    for (lo1, hi1), (lo2, hi2) in itertools.pairwise(spans):
        assert lo1 < lo2 < hi1 < hi2  # neighbours share text and always move forward
        assert text[lo2:hi1] == SENTENCE  # the shared part is one whole sentence
    assert spans[-1][1] == len(text)


@pytest.mark.unit
def test_without_overlap_chunks_do_not_share_text() -> None:
    text = EDGE_CASES["exact-multiple"]
    spans = chunk_spans(text, max_tokens=44, overlap=0)
    assert all(hi1 <= lo2 for (_, hi1), (lo2, _) in itertools.pairwise(spans))


@pytest.mark.unit
def test_breaks_at_sentence_ends_where_possible() -> None:
    text = " ".join(f"Sentence number {n} talks about the harbour." for n in range(40))
    for lo, hi in chunk_spans(text, 60, 10):
        assert text[lo:hi].startswith("Sentence number") and text[lo:hi].endswith("harbour.")


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(EDGE_CASES))
@pytest.mark.parametrize(("max_tokens", "overlap"), [(200, 40), (32, 0), (64, 60)])
def test_windows_respect_the_token_budget_and_cover_every_sentence(name: str, max_tokens: int, overlap: int) -> None:
    text = EDGE_CASES[name]
    spans = chunk_spans(text, max_tokens, overlap)
    # Paragraph breaks between packed sentences add a token or two that per-sentence counts do not see.
    slack = 2 * text.count("\n\n")
    for lo, hi in spans:
        assert 0 <= lo < hi <= len(text)
        assert not text[lo].isspace() and not text[hi - 1].isspace()
        assert count_tokens(text[lo:hi]) <= max_tokens + slack, (name, lo, hi)
    starts = [lo for lo, _ in spans]
    assert starts == sorted(set(starts))
    covered = set()
    for lo, hi in spans:
        covered.update(range(lo, hi))
    for lo, hi in sentence_spans(text):  # nothing said in the article falls between chunks
        assert all(i in covered for i in range(lo, hi) if not text[i].isspace()), name


@pytest.mark.unit
def test_a_sentence_longer_than_the_window_is_cut_at_word_boundaries() -> None:
    spans = chunk_spans(LONG_SENTENCE, 50, 0)
    assert len(spans) > 1
    for lo, hi in spans:
        assert lo == 0 or LONG_SENTENCE[lo - 1] == " "
        assert hi == len(LONG_SENTENCE) or LONG_SENTENCE[hi] == " "


@pytest.mark.unit
def test_a_5000_character_word_is_cut_into_pieces_that_tile_it() -> None:
    spans = chunk_spans(NO_SPACES, 200, 40)
    assert len(spans) > 1
    assert spans[0][0] == 0 and spans[-1][1] == len(NO_SPACES)
    assert all(hi1 == lo2 for (_, hi1), (lo2, _) in itertools.pairwise(spans))


def _article(text: str, title: str = "Harbour strike enters its second week") -> Article:
    return Article(
        id="news/harbour.txt",
        text=text,
        title=title,
        url="https://example.com/a",
        source="example.com",
        published_at="2022-06-12",
    )


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_chunks_quote_the_article_exactly_and_fit_minilm(name: str, embedder: MiniLMEmbedder) -> None:
    article = _article(EDGE_CASES[name])
    chunks = chunk_article(article, 200, 40, embedder.fits)
    if not article.text:  # a headline-only article (a link whose page had no text) is indexed by its title
        [chunk] = chunks
        assert (chunk.text, chunk.start, chunk.end, chunk.title) == ("", 0, 0, article.title)
        return
    if not article.text.strip():
        assert chunks == []
        return
    assert chunks
    for position, chunk in enumerate(chunks):
        assert chunk.text == article.text[chunk.start : chunk.end]
        assert chunk.position == position
        assert (chunk.article_id, chunk.title, chunk.url, chunk.source, chunk.published_at) == (
            article.id,
            article.title,
            article.url,
            article.source,
            article.published_at,
        )
        # What is embedded (title + chunk) must be read whole by MiniLM, counted by its own tokenizer.
        assert embedder.count_wordpieces(indexed_text(chunk.title, chunk.text)) <= embedder.max_wordpieces


@pytest.mark.integration
def test_wordpiece_heavy_text_is_split_further_than_cl100k_alone_would(embedder: MiniLMEmbedder) -> None:
    article = _article(RUSSIAN)
    plain = chunk_article(article, 240, 0)
    fitted = chunk_article(article, 240, 0, embedder.fits)
    assert any(not embedder.fits(indexed_text(c.title, c.text)) for c in plain)
    assert len(fitted) > len(plain)
    assert all(embedder.fits(indexed_text(c.title, c.text)) for c in fitted)


@pytest.mark.unit
def test_chunk_ids_are_deterministic_and_depend_on_content() -> None:
    article = _article(EDGE_CASES["exact-multiple"])
    first = [c.id for c in chunk_article(article, 44, 11)]
    assert first == [c.id for c in chunk_article(article, 44, 11)]
    assert len(set(first)) == len(first)
    other_id = [c.id for c in chunk_article(Article(**{**article.__dict__, "id": "other"}), 44, 11)]
    retitled = [c.id for c in chunk_article(_article(article.text, title="Another title"), 44, 11)]
    assert not set(first) & set(other_id)
    assert not set(first) & set(retitled)  # the title is embedded with each chunk, so it is part of the id
