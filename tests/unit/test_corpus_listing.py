"""The shared BPMN corpus is complete (every file SOURCES.tsv lists, no other) and every file
has a pinned outcome in tests/helpers/corpus.py."""
from __future__ import annotations

from tests.helpers.corpus import OUTCOMES, corpus_files, listed_sources, requires_corpus


@requires_corpus
def test_the_corpus_is_all_here_and_every_file_is_pinned():
    files = corpus_files()
    assert len(files) == 46 and set(files) == listed_sources()
    assert set(OUTCOMES) == set(files)
