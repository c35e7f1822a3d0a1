"""Safe XML parsing for untrusted uploads.

Uploaded files never get a DTD, entity expansion, network access or an
unbounded tree: a file with a DOCTYPE is refused outright, which closes XXE and
entity-expansion ("billion laughs") attacks before lxml sees any entity.
"""
from __future__ import annotations

from lxml import etree

from engine.errors import Message

MAX_FILE_BYTES = 10 * 1024 * 1024


class UnsafeXml(Exception):
    """The bytes are not well-formed, safe XML; `.line` is set where known."""

    def __init__(self, message: Message, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


def parse(content: bytes) -> etree._ElementTree:
    """Parse untrusted bytes into an lxml tree or raise `UnsafeXml` with a readable reason."""
    if len(content) > MAX_FILE_BYTES:
        raise UnsafeXml(Message("file is larger than %(size)s MB", size=MAX_FILE_BYTES // (1024 * 1024)))
    if not content.strip():
        raise UnsafeXml(Message("file is empty"))
    if b"<!DOCTYPE" in content:
        raise UnsafeXml(Message("DOCTYPE declarations (and so entities) are not allowed in uploaded files"))
    try:
        tree = etree.ElementTree(etree.fromstring(content, _parser()))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise UnsafeXml(Message("not well-formed XML: %(problem)s", problem=exc.msg), line) from None
    if tree.docinfo.doctype:
        raise UnsafeXml(Message("DOCTYPE declarations are not allowed in uploaded files"))
    return tree
