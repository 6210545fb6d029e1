"""Read OpenTofu files (`.tf`, `.tofu`, `.tfvars`, `.hcl`, their `.json` forms) into a model.

The one HCL reader: the environment model (`hubops.facts.environments`: tfvars and backend settings)
and the validator (`hubops.tfcheck`) both read files through it.

The model keeps only what the checks need, each with its line: blocks (type, labels, attributes,
nested blocks), top-level attributes, and the `name.attr` references found in expressions,
string templates and heredocs. Attribute values are plain Python values where they are literals;
any other expression is kept as its source text wrapped in `${...}`, as python-hcl2 does.

Parsing is the slow part, so each file's model is cached under a key made of its content hash,
this module's model version and the parser's version.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path

# Bump when the model's shape or meaning changes, so stale cache entries are never read.
MODEL_VERSION = 3
JSON_SUFFIXES = (".tf.json", ".tofu.json", ".tfvars.json")

# The JSON syntax gives blocks no keyword: the number of labels comes from the block type.
_JSON_LABELS = {
    "resource": 2,
    "data": 2,
    "ephemeral": 2,
    "variable": 1,
    "output": 1,
    "module": 1,
    "provider": 1,
    "check": 1,
}
_ESCAPE = re.compile(r'\\(["\\nrt]|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})')
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
# `${` and `%{` open a template sequence; `$${` and `%%{` are their escaped, literal forms.
_TEMPLATE_START = re.compile(r"(\$\$\{|%%\{)|(\$\{|%\{)")
_DIRECTIVE = re.compile(
    r"^(?:if\s+(?P<cond>.*)|for\s+[\w\s,]+?\s+in\s+(?P<coll>.*)|else|endif|endfor)$", re.DOTALL
)


@dataclass
class Attr:
    name: str
    line: int
    value: object


@dataclass
class Block:
    type: str
    labels: list[str]
    line: int
    attrs: dict[str, Attr] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Ref:
    """A traversal `root.name` (`var.region`, `local.tags`, `each.key`) and its line."""

    root: str
    name: str
    line: int


@dataclass
class ParsedFile:
    path: Path
    blocks: list[Block] = field(default_factory=list)
    attrs: dict[str, Attr] = field(default_factory=dict)
    refs: list[Ref] = field(default_factory=list)
    # (line, message) when the file cannot be parsed; the rest of the model is then empty.
    error: tuple[int, str] | None = None

    def blocks_of(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.type == kind]


def is_expression(value: object) -> bool:
    """True for a value that is not a literal (kept as `${source}`)."""
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


class Parser:
    """Parses files, reading and writing the model cache in `cache_dir` (None: no cache)."""

    def __init__(self, cache_dir: Path | None = None):
        self.cache_dir = cache_dir
        self.parsed = 0
        self.cached = 0
        self._salt = f"{MODEL_VERSION}\0{package_version('python-hcl2')}\0".encode()

    def parse(self, path: Path) -> ParsedFile:
        data = path.read_bytes()
        is_json = path.name.endswith(JSON_SUFFIXES)
        key = hashlib.sha256(self._salt + (b"json\0" if is_json else b"hcl\0") + data).hexdigest()
        entry = self.cache_dir / f"{key}.json" if self.cache_dir else None
        if entry and entry.is_file():
            try:
                model = _from_dict(json.loads(entry.read_text(encoding="utf-8")), path)
                self.cached += 1
                return model
            except (OSError, ValueError, KeyError, TypeError):
                pass  # a damaged entry is parsed again and overwritten
        text = data.decode("utf-8-sig", errors="replace")
        model = _parse_json(text, path) if is_json else _parse_hcl(text, path)
        self.parsed += 1
        if entry:
            _write_atomically(entry, json.dumps(_to_dict(model)))
        return model


def _write_atomically(path: Path, text: str) -> None:
    # Runs may overlap (CI, a hook and a terminal); a reader must never see half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _to_dict(model: ParsedFile) -> dict:
    data = asdict(model)
    del data["path"]
    return data


def _from_dict(data: dict, path: Path) -> ParsedFile:
    def attrs(raw: dict) -> dict[str, Attr]:
        return {name: Attr(**a) for name, a in raw.items()}

    def block(raw: dict) -> Block:
        return Block(
            raw["type"],
            raw["labels"],
            raw["line"],
            attrs(raw["attrs"]),
            [block(b) for b in raw["blocks"]],
        )

    error = data["error"]
    return ParsedFile(
        path,
        [block(b) for b in data["blocks"]],
        attrs(data["attrs"]),
        [Ref(**r) for r in data["refs"]],
        tuple(error) if error else None,
    )


# -- HCL native syntax: python-hcl2's grammar, walked as the raw lark tree (it keeps lines) ------


def _parse_hcl(text: str, path: Path) -> ParsedFile:
    from hcl2.api import parses_to_tree
    from lark.exceptions import LarkError

    try:
        tree = parses_to_tree(text)
    except LarkError as exc:
        # The end of file is reported one line past the last (the parser appends a newline).
        line = min(max(getattr(exc, "line", 1), 1), len(text.splitlines()) or 1)
        return ParsedFile(path, error=(line, _syntax_message(exc)))
    source = text + "\n"  # the parser appends a newline; positions index into this
    body = tree.children[0]
    model = ParsedFile(path)
    _fill(model, body, source)
    model.refs = _hcl_refs(tree)
    return model


def _syntax_message(exc) -> str:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        found = (
            f"unexpected {exc.token.value.strip()!r}"
            if exc.token.value.strip()
            else "unexpected end of line"
        )
    elif isinstance(exc, UnexpectedCharacters):
        found = f"unexpected character {exc.char!r}"
    elif isinstance(exc, UnexpectedToken | UnexpectedEOF):
        found = "unexpected end of file (an unclosed brace, bracket or quote?)"
    else:
        return f"HCL syntax error: {exc}: fix the syntax"
    return f"HCL syntax error at column {exc.column}: {found}: fix the syntax"


def _subtrees(node) -> list:
    from lark import Tree

    return [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def _body_items(body) -> list:
    return [c for c in _subtrees(body) if c.data in ("attribute", "block")]


def _name(node) -> str:
    """The text of an identifier, keyword or literal_value node (or a bare token)."""
    from lark import Token

    return str(node) if isinstance(node, Token) else str(node.children[0])


def _attribute(node, source: str) -> Attr:
    name_node, _eq, expression = node.children
    return Attr(_name(name_node), node.meta.line, _value(expression, source))


def _block(node, source: str) -> Block:
    parts = _subtrees(node)
    kind, *labels, body = parts
    block = Block(_name(kind), [_label(label, source) for label in labels], node.meta.line)
    _fill(block, body, source)
    return block


def _fill(container: ParsedFile | Block, body, source: str) -> None:
    """A body's attributes and nested blocks, into the file or block that holds them."""
    for item in _body_items(body):
        if item.data == "attribute":
            attr = _attribute(item, source)
            container.attrs[attr.name] = attr
        else:
            container.blocks.append(_block(item, source))


def _label(node, source: str) -> str:
    return str(_value(node, source)) if node.data == "string" else _name(node)


def _expression_text(node, source: str) -> str:
    return "${" + source[node.meta.start_pos : node.meta.end_pos].strip() + "}"


def _value(node, source: str) -> object:
    """A literal expression as a Python value; anything else as `${source}`."""
    kind = node.data
    parts = _subtrees(node)
    if kind == "expr_term" and len(parts) == 1:
        return _value(parts[0], source)
    if kind == "string":
        return _string(node, source)
    if kind == "int_lit":
        return int(node.children[0])
    if kind == "float_lit":
        return float(node.children[0])
    if kind == "literal_value":
        return {"true": True, "false": False, "null": None}[str(node.children[0])]
    if kind == "tuple":
        return [_value(p, source) for p in parts]
    if kind == "object":
        return {_key(elem, source): _value(_subtrees(elem)[1], source) for elem in parts}
    if kind == "unary_op" and str(node.children[0]) == "-":
        inner = _value(node.children[1], source)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner
    if kind in ("heredoc_template", "heredoc_template_trim"):
        text = str(node.children[0])
        if not _TEMPLATE_START.search(text):
            return _heredoc_body(text, trim=kind.endswith("trim"))
    return _expression_text(node, source)


def _key(elem, source: str) -> str:
    key = elem.children[0]
    inner = key.children[0]
    if not hasattr(inner, "data"):  # a keyword used as a key: `in = ...`
        return str(inner)
    parts = _subtrees(inner)
    if inner.data == "expr_term" and len(parts) == 1 and parts[0].data == "identifier":
        return _name(parts[0])
    value = _value(inner, source)
    return value if isinstance(value, str) else str(value)


def _string(node, source: str) -> str:
    pieces = []
    for part in _subtrees(node):
        child = part.children[0]
        if hasattr(child, "data"):  # an interpolation or a template directive
            return _expression_text(node, source)
        if child.type == "ESCAPED_INTERPOLATION" or child.type == "ESCAPED_DIRECTIVE":
            pieces.append(str(child)[1:])
        else:
            pieces.append(_ESCAPE.sub(_unescape, str(child)))
    return "".join(pieces)


def _unescape(match: re.Match) -> str:
    code = match.group(1)
    return _ESCAPES.get(code) or chr(int(code[1:], 16))


def _heredoc_body(text: str, *, trim: bool) -> str:
    lines = text.split("\n")[1:-2]  # drop `<<EOT` and the closing marker (and its newline)
    if trim:
        indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
        lines = [x[indent:] for x in lines]
    return "\n".join(lines) + "\n" if lines else ""


def _hcl_refs(tree, line_offset: int = 0) -> list[Ref]:
    refs = []
    for node in tree.iter_subtrees():
        if node.data == "get_attr_expr_term":
            base, get_attr = node.children[0], node.children[1]
            parts = base.children
            if len(parts) == 1 and getattr(parts[0], "data", None) == "identifier":
                refs.append(
                    Ref(_name(parts[0]), _name(get_attr.children[1]), node.meta.line + line_offset)
                )
        elif node.data in ("heredoc_template", "heredoc_template_trim"):
            token = node.children[0]
            refs.extend(_template_refs(str(token), token.line))
    return refs


def _template_refs(text: str, line: int) -> list[Ref]:
    """References inside the `${...}` and `%{...}` sequences of a template held as text."""
    from hcl2.api import parses_to_tree
    from lark.exceptions import LarkError

    refs = []
    for offset, expression in _template_sequences(text):
        try:
            tree = parses_to_tree(f"x = (\n{expression}\n)\n")
        except LarkError:
            continue  # not an expression we can read; tofu validate reports real mistakes
        refs.extend(_hcl_refs(tree, line + text.count("\n", 0, offset) - 2))
    return refs


def _template_sequences(text: str):
    """(offset, expression) for each template sequence; directives give their expression."""
    position = 0
    while match := _TEMPLATE_START.search(text, position):
        if match.group(1):
            position = match.end()
            continue
        depth, end, quoted = 1, match.end(), False
        while end < len(text) and depth:
            char = text[end]
            if quoted:
                if char == "\\":
                    end += 1
                elif char == '"':
                    quoted = False
            elif char == '"':
                quoted = True
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            end += 1
        position = end
        inner = text[match.end() : end - 1].strip().strip("~").strip()
        if match.group(2) == "%{":
            directive = _DIRECTIVE.match(inner)
            inner = (directive.group("cond") or directive.group("coll") or "") if directive else ""
        if inner:
            yield match.start(), inner


# -- JSON syntax ----------------------------------------------------------------------------------


class _LineDict(dict):
    line = 1


def _load_json_with_lines(text: str):
    """json.loads, but every object remembers the line it starts on."""
    import json.decoder
    import json.scanner

    newlines = [i for i, char in enumerate(text) if char == "\n"]
    decoder = json.JSONDecoder()

    def parse_object(s_and_end, *args):
        obj, end = json.decoder.JSONObject(s_and_end, *args)
        result = _LineDict(obj)
        result.line = bisect.bisect_left(newlines, s_and_end[1]) + 1
        return result, end

    decoder.parse_object = parse_object
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    return decoder.decode(text)


def _parse_json(text: str, path: Path) -> ParsedFile:
    try:
        document = _load_json_with_lines(text)
    except json.JSONDecodeError as exc:
        return ParsedFile(
            path,
            error=(
                exc.lineno,
                f"JSON syntax error at column {exc.colno}: {exc.msg}: fix the syntax",
            ),
        )
    model = ParsedFile(path)
    if not isinstance(document, dict):
        model.error = (1, "the JSON document is not an object: write it as one")
        return model
    if path.name.endswith(".tfvars.json"):
        model.attrs = {k: Attr(k, document.line, v) for k, v in document.items() if k != "//"}
    else:
        for kind, content in document.items():
            if kind != "//":
                model.blocks.extend(_json_blocks(kind, content, _JSON_LABELS.get(kind, 0), []))
    model.refs = _json_refs(document, document.line)
    return model


def _json_blocks(kind: str, content, depth: int, labels: list[str]) -> list[Block]:
    if isinstance(content, list):
        return [b for item in content for b in _json_blocks(kind, item, depth, labels)]
    if not isinstance(content, dict):
        return []
    if depth:
        return [
            b
            for label, inner in content.items()
            if label != "//"
            for b in _json_blocks(kind, inner, depth - 1, [*labels, label])
        ]
    line = getattr(content, "line", 1)
    attrs = {k: Attr(k, line, v) for k, v in content.items() if k != "//"}
    return [Block(kind, labels, line, attrs)]


def _json_refs(value, line: int) -> list[Ref]:
    if isinstance(value, str):
        return _template_refs(value, line) if "{" in value else []
    if isinstance(value, dict):
        line = getattr(value, "line", line)
        return [r for k, v in value.items() if k != "//" for r in _json_refs(v, line)]
    if isinstance(value, list):
        return [r for item in value for r in _json_refs(item, line)]
    return []
