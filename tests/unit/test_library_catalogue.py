"""The library catalogue (processes/translations, domain `processes`) says every word of the shipped
process library in Chinese, and nothing else: read through the engine's own parsing of the models."""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from engine.bpmn.intake import load
from engine.services.deployments import read_sources
from webui.model_words import LIBRARY_TRANSLATIONS

LIBRARY = Path(__file__).resolve().parents[2] / "processes"
CATALOGUE = LIBRARY_TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "processes.po"


@pytest.fixture(scope="module")
def library_texts() -> set[str]:
    """Process names, element names, form labels, option names and documentation of every model.

    Lanes are left out: their names are group ids, said in the reader's language by group titles."""
    intake = load(read_sources(sorted(LIBRARY.glob("*.bpmn")) + sorted(LIBRARY.glob("*.dmn"))))
    texts: set[str] = set()
    for process in intake.processes.values():
        texts.add(process.name)
        for element in process.elements.values():
            texts.update((element["name"], element["documentation"]))
            for field in element.get("form") or []:
                texts.add(field["label"])
                texts.update(option["name"] for option in field.get("options", []))
    return {text for text in texts if text}


@pytest.fixture(scope="module")
def catalogue():
    with CATALOGUE.open("rb") as source:
        return read_po(source)


def test_every_text_of_the_library_has_a_chinese_entry(catalogue, library_texts):
    texts = library_texts
    assert len(texts) > 400  # the whole library, not an empty parse
    missing = sorted(t for t in texts if t not in catalogue)
    assert not missing
    untranslated = sorted(t for t in texts if not catalogue[t].string or catalogue[t].fuzzy)
    assert not untranslated


def test_the_catalogue_holds_nothing_the_library_does_not_say(catalogue, library_texts):
    unused = sorted(m.id for m in catalogue if m.id and m.id not in library_texts)
    assert not unused


def test_translations_are_chinese_and_questions_stay_questions(catalogue):
    for message in (m for m in catalogue if m.id):
        assert any("\u4e00" <= c <= "\u9fff" for c in message.string), message.id
        assert message.id.endswith("?") == message.string.endswith("？"), message.id
