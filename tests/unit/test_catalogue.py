"""The Chinese catalogue is complete: every message of engine/ and webui/, extracted as `pybabel extract`
does with webui/babel.cfg, has a translation in zh_Hans that is not fuzzy and has the same placeholders."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "webui/translations/zh_Hans/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")


def extracted() -> dict[str | tuple[str, ...], list[str]]:
    """msgid (a tuple for plural forms) -> where it is used, from engine/ and webui/."""
    with (ROOT / "webui/babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str | tuple[str, ...], list[str]] = {}
    for folder in ("engine", "webui"):
        for file, line, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map, options_map, keywords=DEFAULT_KEYWORDS):
            key = message if isinstance(message, str) else tuple(m for m in message if m)
            found.setdefault(key, []).append(f"{folder}/{file}:{line}")
    return found


def placeholders(text: str) -> list[str]:
    return sorted(m.group(0) for m in PLACEHOLDER.finditer(text) if m.group(0) != "%%")


@pytest.fixture(scope="module")
def catalogue():
    with CATALOGUE.open("rb") as po:
        return read_po(po, locale="zh_Hans")


@pytest.fixture(scope="module")
def messages():
    return extracted()


def test_the_extraction_finds_the_engines_messages_too(messages):
    """The keywords of babel.cfg reach the engine's errors, problems and marked constants."""
    for msgid in ("%(user)s is not a candidate for task %(id)s (%(offered)s)",  # PermissionDenied
                  "must be a whole number",  # forms.BadValue
                  "%(kind)s %(id)s",  # Message
                  "too many failed sign-ins: this account is locked for 15 minutes",  # N_
                  "two files of this deployment have the same name"):  # DeployProblem, second argument
        assert msgid in messages


def test_every_message_has_a_chinese_translation(messages, catalogue):
    missing = []
    for msgid, where in sorted(messages.items(), key=lambda item: str(item[0])):
        entry = catalogue.get(msgid[0] if isinstance(msgid, tuple) else msgid)
        translated = entry is not None and (all(entry.string) if isinstance(entry.string, tuple) else entry.string)
        if not translated:
            missing.append(f"{msgid!r} ({where[0]})")
    assert not missing, f"{len(missing)} messages have no Chinese translation:\n" + "\n".join(missing)


def test_no_entry_is_fuzzy(catalogue):
    fuzzy = [message.id for message in catalogue if message.id and message.fuzzy]
    assert not fuzzy, fuzzy


@pytest.mark.parametrize("plural", [False, True], ids=["singular", "plural"])
def test_translations_keep_the_placeholders(catalogue, plural):
    wrong = []
    for message in catalogue:
        if not message.id or message.pluralizable != plural:
            continue
        ids = message.id if plural else (message.id,)
        strings = message.string if plural else (message.string,)
        expected = placeholders(ids[-1])  # Chinese has one form, the plural's
        wrong += [f"{ids[0]!r} -> {string!r}" for string in strings if string and placeholders(string) != expected]
    assert not wrong, "\n".join(wrong)
