"""Parse YAML about twice as fast as `yaml.load(CSafeLoader)`, with the same result.

libyaml composes the node tree in C; PyYAML's constructor then spends as long again
in Python, mostly on bookkeeping for plain strings, maps and lists. Those are built
here directly; every other node (ints, dates, merge keys, explicit tags) goes to the
safe constructor, so what is accepted and what it becomes does not change.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_C_LOADER = getattr(yaml, "CSafeLoader", None)


def parse(text: str) -> Any:
    if _C_LOADER is None:
        return yaml.load(text, Loader=yaml.SafeLoader)
    loader = _C_LOADER(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        try:
            return _Builder(loader).make(root)
        except (TypeError, RecursionError):
            # An unhashable key or an absurdly deep document: let PyYAML say what is wrong.
            return yaml.load(text, Loader=_C_LOADER)
    finally:
        loader.dispose()


class _Builder:
    def __init__(self, loader: Any) -> None:
        self._loader = loader
        self._made: dict[int, Any] = {}  # by node: an alias yields the same object, as in PyYAML

    def make(self, node: Node) -> Any:
        made = self._made.get(id(node))
        if made is not None:
            return made
        if isinstance(node, ScalarNode) and node.tag == _STR:
            return node.value
        if isinstance(node, SequenceNode) and node.tag == _SEQ:
            items: list[Any] = []
            self._made[id(node)] = items
            items.extend(self.make(item) for item in node.value)
            return items
        if isinstance(node, MappingNode) and node.tag == _MAP and not _merges(node):
            mapping: dict[Any, Any] = {}
            self._made[id(node)] = mapping
            for key, value in node.value:
                mapping[self.make(key)] = self.make(value)
            return mapping
        made = self._made[id(node)] = self._loader.construct_object(node, deep=True)
        return made


def _merges(node: MappingNode) -> bool:
    return any(key.tag == _MERGE for key, _ in node.value)
