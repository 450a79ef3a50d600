"""Fuzzing the hints parser: never a traceback, never a silent accept of invalid data.

An independent oracle, written from DESIGN.md's wording rather than from the parser, decides
whether each generated document is valid; the parser must agree with it on every one.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from vscolorize.core.errors import HintError
from vscolorize.core.hints import Hints, load_hints, parse_hints, save_hints

# --- the oracle ---------------------------------------------------------------------------------


def _number(v: Any, lo: float, hi: float, open_low: bool = False) -> bool:
    if type(v) not in (int, float):
        return False
    try:
        if not math.isfinite(v):
            return False
    except OverflowError:
        return False
    return (lo < v if open_low else lo <= v) and v <= hi


def _color(obj: dict[str, Any]) -> bool:
    if ("ab" in obj) == ("rgb" in obj):
        return False
    if "rgb" in obj:
        return isinstance(obj["rgb"], str) and re.fullmatch(r"#[0-9a-fA-F]{6}", obj["rgb"]) is not None
    ab = obj["ab"]
    return type(ab) is list and len(ab) == 2 and all(_number(c, -128, 127) for c in ab)


def _point(p: Any) -> bool:
    return (
        type(p) is dict
        and all(k in p and _number(p[k], 0, 1) for k in ("x", "y"))
        and ("radius" not in p or _number(p["radius"], 0, 1, open_low=True))
        and _color(p)
    )


def _stroke(s: Any) -> bool:
    if type(s) is not dict or type(s.get("path")) is not list or not s["path"]:
        return False
    for v in s["path"]:
        if type(v) is not list or len(v) != 2 or not all(_number(c, 0, 1) for c in v):
            return False
    return ("width" not in s or _number(s["width"], 0, 1, open_low=True)) and _color(s)


def oracle(doc: Any) -> bool:
    if type(doc) is not dict or doc.get("format") != "vscolorize.hints":
        return False
    if type(doc.get("version")) is not int or doc["version"] != 1:
        return False
    if type(doc.get("keyframes")) is not list:
        return False
    frames = set()
    for kf in doc["keyframes"]:
        if type(kf) is not dict or type(kf.get("frame")) is not int:
            return False
        if not 0 <= kf["frame"] < 2**31 or kf["frame"] in frames:
            return False
        frames.add(kf["frame"])
        for key, check in (("points", _point), ("strokes", _stroke)):
            if key in kf and (type(kf[key]) is not list or not all(map(check, kf[key]))):
                return False
    return True


# --- generators ---------------------------------------------------------------------------------

unit = st.floats(0, 1) | st.sampled_from([0, 1])
json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["#00ff7f", "#C83C28", "vscolorize.hints", 1, 0.5, -0.0, 2**31])
)
json_any = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
color = st.fixed_dictionaries({"ab": st.lists(st.floats(-128, 127), min_size=2, max_size=2)}) | (
    st.fixed_dictionaries({"rgb": st.from_regex(r"#[0-9a-fA-F]{6}", fullmatch=True)})
)
point = st.tuples(
    st.fixed_dictionaries({"x": unit, "y": unit}, optional={"radius": st.floats(1e-6, 1)}), color
).map(lambda t: {**t[0], **t[1]})
stroke = st.tuples(
    st.fixed_dictionaries(
        {"path": st.lists(st.lists(unit, min_size=2, max_size=2), min_size=1, max_size=4)},
        optional={"width": st.floats(1e-6, 1)},
    ),
    color,
).map(lambda t: {**t[0], **t[1]})
keyframe = st.fixed_dictionaries(
    {"frame": st.integers(0, 10_000)},
    optional={"points": st.lists(point, max_size=3), "strokes": st.lists(stroke, max_size=2)},
)
document = st.fixed_dictionaries(
    {
        "format": st.just("vscolorize.hints"),
        "version": st.just(1),
        "keyframes": st.lists(keyframe, max_size=3, unique_by=lambda k: k["frame"]),
    }
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A valid document with one to three random edits: a value replaced, a key dropped or added."""
    doc = draw(document)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        if not path:
            doc = draw(json_any)
            continue
        parent = doc
        for p in path[:-1]:
            parent = parent[p]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["x", "ab", "rgb", "radius", "frame", "extra"]))] = draw(json_any)
        else:
            parent[path[-1]] = draw(json_any)
    return doc


# --- properties ---------------------------------------------------------------------------------


def _check(doc: Any) -> None:
    valid = oracle(doc)
    try:
        hints = parse_hints(doc, source="fuzz.json")
    except HintError as e:
        assert not valid, f"refused a valid document: {e}"
        message = str(e)
        assert message.startswith("fuzz.json: ") and "\n" not in message
        return
    assert valid, f"accepted an invalid document: {doc!r}"
    assert isinstance(hints, Hints)
    assert parse_hints(json.loads(json.dumps(hints.to_json()))) == hints


@settings(max_examples=1500)
@given(document)
def test_valid_documents_load_and_round_trip(doc: dict[str, Any]) -> None:
    assert oracle(doc)
    _check(doc)


@settings(max_examples=3000)
@given(mutated())
def test_parser_agrees_with_oracle_on_mutated_documents(doc: Any) -> None:
    _check(doc)


@settings(max_examples=500)
@given(
    st.binary(max_size=200)
    | st.text(max_size=200).map(str.encode)
    | document.map(lambda d: json.dumps(d).encode()[: len(json.dumps(d)) // 2])
)
def test_arbitrary_files_never_crash(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "h.json"
        path.write_bytes(data)
        try:
            hints = load_hints(path)
        except HintError as e:
            assert str(e).startswith(f"{path}: ") and "\n" not in str(e)
        else:
            save_hints(hints, path)
            assert load_hints(path) == hints
