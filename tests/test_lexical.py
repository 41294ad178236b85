"""The BM25 index on its own: build, search, group filtering, persistence and atomic replacement."""

from pathlib import Path

from cited.store.lexical import LexicalIndex, words_of
from cited.store.search_filter import SearchFilter

IDS = ["d1-p-00000", "d1-p-00001", "d2-p-00000"]
TEXTS = [
    "The karaoke session ran on DingTalk for all employees.",
    "Employees in Hubei received video messages from colleagues.",
    "Tongyi Qianwen is Alibaba's large language model.",
]
GROUPS = [("everyone",), ("everyone", "hr"), ("board",)]


def test_search_ranks_matching_chunks_and_stems(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "bm25")
    index.build(IDS, TEXTS, GROUPS)
    hits = index.search("Which platform hosted the karaoke sessions?", k=3)
    assert [h.chunk_id for h in hits] == ["d1-p-00000"]  # "sessions" matches "session" by stemming
    assert index.search("the and of", k=3) == []  # stop words only
    assert index.search("quantum chromodynamics", k=3) == []  # no shared term: nothing, not noise


def test_the_index_is_persisted_and_reloaded(tmp_path: Path) -> None:
    LexicalIndex(tmp_path / "bm25").build(IDS, TEXTS, GROUPS)
    reopened = LexicalIndex(tmp_path / "bm25")
    assert reopened.load() and len(reopened) == 3
    assert reopened.search("Tongyi Qianwen", k=2)[0].chunk_id == "d2-p-00000"


def test_a_new_build_replaces_the_old_one_atomically(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "bm25")
    first = index.build(IDS, TEXTS, GROUPS)
    second = index.build(IDS[:2], TEXTS[:2], GROUPS[:2])
    assert first != second and index.current() == second
    assert index.search("Tongyi", k=3) == []
    # Only the live build is kept on disk.
    assert sorted(p.name for p in (tmp_path / "bm25").iterdir() if p.is_dir()) == [second]


def test_an_interrupted_build_leaves_the_previous_index_live(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "bm25")
    live = index.build(IDS, TEXTS, GROUPS)
    (tmp_path / "bm25" / ".building-deadbeef-123").mkdir()  # what a killed build leaves behind
    reopened = LexicalIndex(tmp_path / "bm25")
    assert reopened.load() and reopened.fingerprint == live
    assert reopened.search("DingTalk", k=1)[0].chunk_id == "d1-p-00000"


def test_an_empty_store_gives_an_empty_index(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "bm25")
    index.build([], [], [])
    assert index.load() and len(index) == 0 and index.search("anything", k=5) == []


def test_groups_filter_inside_the_search_and_survive_a_reload(tmp_path: Path) -> None:
    LexicalIndex(tmp_path / "bm25").build(IDS, TEXTS, GROUPS)
    index = LexicalIndex(tmp_path / "bm25")
    assert index.load()
    assert (
        index.search("Tongyi Qianwen", k=3, search_filter=SearchFilter(frozenset({"board"})))[0].chunk_id
        == "d2-p-00000"
    )
    assert (
        index.search("Tongyi Qianwen", k=3, search_filter=SearchFilter(frozenset({"everyone", "hr"}))) == []
    )
    assert [
        h.chunk_id for h in index.search("employees", k=3, search_filter=SearchFilter(frozenset({"hr"})))
    ] == ["d1-p-00001"]
    assert (
        index.search("employees", k=3, search_filter=SearchFilter(frozenset())) == []
    )  # no group reads nothing
    assert len(index.search("employees", k=3)) == 2  # no filter: auth off


def test_chosen_documents_narrow_the_search_and_never_widen_the_groups(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "bm25")
    index.build(IDS, TEXTS, GROUPS)
    both = "DingTalk Tongyi"
    assert {h.chunk_id for h in index.search(both, k=3)} == {"d1-p-00000", "d2-p-00000"}
    assert [
        h.chunk_id for h in index.search(both, k=3, search_filter=SearchFilter(documents=frozenset({"d2"})))
    ] == ["d2-p-00000"]
    board_only = SearchFilter(frozenset({"everyone"}), frozenset({"d2"}))  # d2 is the board's
    assert index.search(both, k=3, search_filter=board_only) == []
    assert index.search(both, k=3, search_filter=SearchFilter(documents=frozenset())) == []


def test_relabelling_a_chunk_changes_the_fingerprint(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "bm25")
    before = index.build(IDS, TEXTS, GROUPS)
    after = index.build(IDS, TEXTS, [("everyone",), ("everyone", "hr"), ("everyone",)])
    assert before != after
    assert (
        index.search("Tongyi", k=3, search_filter=SearchFilter(frozenset({"everyone"})))[0].chunk_id
        == "d2-p-00000"
    )


def test_a_build_from_saved_terms_scores_exactly_as_one_from_the_texts(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "bm25")
    index.build(IDS[:2], TEXTS[:2], GROUPS[:2], titles=["Memo", "Memo"])
    saved = index.saved_words()
    assert saved == {i: ("Memo", w) for i, w in zip(IDS[:2], words_of(TEXTS[:2]), strict=True)}
    assert (
        "karaok" in saved["d1-p-00000"][1] and "the" not in saved["d1-p-00000"][1]
    )  # stemmed, no stop words

    titles = ["Memo", "Memo", "Models"]
    index.build_from_words(IDS, [saved[IDS[0]][1], saved[IDS[1]][1], *words_of(TEXTS[2:])], GROUPS, titles)
    fresh = LexicalIndex(tmp_path / "fresh")
    fresh.build(IDS, TEXTS, GROUPS, titles)
    for question in ("karaoke on DingTalk", "video messages for employees", "Alibaba's language model"):
        assert index.search(question, k=3) == fresh.search(question, k=3)
    assert index.saved_words() == fresh.saved_words() and index.current() == fresh.current()
    # A new title is new content: the same chunks under another title are another build.
    assert fresh.build(IDS, TEXTS, GROUPS, ["Memo", "Memo", "Renamed"]) != index.current()


def test_an_index_saved_without_terms_is_rebuilt_from_the_texts(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "bm25")
    built = index.build(IDS, TEXTS, GROUPS)
    (tmp_path / "bm25" / built / "words.npz").unlink()  # as an older Cited saved it
    assert index.saved_words() == {}
