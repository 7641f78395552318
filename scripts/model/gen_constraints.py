#!/usr/bin/env python3
"""Writes crates/tresor-core/src/validate/model.rs (the shapes and tables) and
model_checks.rs (each operation's checks): the request constraints of every
KMS operation (required members, string/blob/list/map lengths, integer ranges, enums,
patterns), derived from the trimmed botocore model, as smithy-rs derives its validators.

Usage:  scripts/model/gen_constraints.py [--check]

Reads crates/tresor/tests/data/kms-model.json (scripts/model/trim_kms_model.py writes
it, keeping each structure's member order in `memberOrder`). With --check it writes
nothing and exits 1 when a checked-in file differs from what it would write.
crates/tresor-core/tests/model_constraints.rs checks the same table from Rust.

The generated code works on each operation's typed request (`ops::<op>::Request`):
member `KeyId` is field `key_id`, reported as `keyId`. Nested structures are checked
through the Rust types named in STRUCTS.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "crates", "tresor", "tests", "data", "kms-model.json")
OUT = os.path.join(ROOT, "crates", "tresor-core", "src", "validate", "model.rs")
# The per-operation checks (`impl Constrained`/`impl Member`), apart from the tables.
OUT_CHECKS = os.path.join(ROOT, "crates", "tresor-core", "src", "validate", "model_checks.rs")

# The Rust type of each nested structure shape a request can carry.
STRUCTS = {
    "Tag": "crate::wire::Tag",
    "RecipientInfo": "crate::wire::RecipientInfo",
    "GrantConstraints": "crate::ops::create_grant::Constraints",
    "XksProxyAuthenticationCredentialType": "crate::ops::create_custom_key_store::XksCredential",
}

# Operations whose module name is not the snake case of the operation name.
MODULES: dict[str, str] = {}


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def upper(name: str) -> str:
    return snake(name).upper()


def camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def rust_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def translated(pattern: str) -> str:
    """The model's pattern in `regex-lite` syntax. Smithy patterns are not implicitly
    anchored (a value matches when the expression is found in it), as smithy-rs checks
    them; most of KMS's carry their own `^...$`."""
    p = re.sub(r"\\u([0-9A-Fa-f]{4})", r"\\x{\1}", pattern)
    # Java reads `-` after a range (`0-9-_`) as a literal; regex-lite wants it escaped.
    p = re.sub(r"(?<=[0-9A-Za-z]-[0-9A-Za-z])-(?=[^\]])", r"\\-", p)
    return p


# Where Tresor knowingly accepts more than the model (messages still quote the model's
# pattern): an XKS proxy endpoint may name a port, and may be plain http to a loopback
# host for tests (the store operations refuse http to any other host).
WIDENED = {
    "XksProxyUriEndpointType": r"^https://[a-zA-Z0-9.-]+(:[0-9]{1,5})?$|^http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?$",
}


def opt(v) -> str:
    return "None" if v is None else f"Some({v})"


class Gen:
    def __init__(self, model: dict):
        self.model = model
        self.shapes = model["shapes"]
        self.statics: dict[str, str] = {}
        self.rows: list[str] = []
        self.struct_impls: dict[str, str] = {}

    def order(self, shape: dict) -> list[str]:
        return shape.get("memberOrder") or sorted(shape.get("members", {}))

    def shape_static(self, name: str) -> str:
        """The static holding shape `name`'s constraints; returns its Rust name."""
        ident = upper(name)
        if ident in self.statics:
            return ident
        s = self.shapes[name]
        t = s["type"]
        if t == "string":
            pat = "None"
            if "pattern" in s:
                pident = f"{ident}_PATTERN"
                self.statics[pident] = (
                    f"static {pident}: Pattern = Pattern::new({rust_str(s['pattern'])}, {rust_str(WIDENED.get(name, translated(s['pattern'])))});"
                )
                pat = f"Some(&{pident})"
            values = ", ".join(rust_str(v) for v in s.get("enum", []))
            self.statics[ident] = (
                f"static {ident}: Str = Str {{ min: {opt(s.get('min'))}, max: {opt(s.get('max'))}, pattern: {pat}, "
                f"values: &[{values}], sensitive: {str(bool(s.get('sensitive'))).lower()} }};"
            )
            self.rows.append(f"    ShapeRow::Str({rust_str(name)}, &{ident}),")
        elif t == "blob":
            self.statics[ident] = f"static {ident}: Len = Len {{ min: {opt(s.get('min'))}, max: {opt(s.get('max'))} }};"
            self.rows.append(f"    ShapeRow::Len({rust_str(name)}, &{ident}),")
        elif t in ("integer", "long"):
            self.statics[ident] = f"static {ident}: Int = Int {{ min: {opt(s.get('min'))}, max: {opt(s.get('max'))} }};"
            self.rows.append(f"    ShapeRow::Int({rust_str(name)}, &{ident}),")
        elif t in ("boolean", "timestamp", "structure"):
            if t == "structure":
                self.struct_impl(name)
            self.statics[ident] = f"static {ident}: Unconstrained = Unconstrained;"
        elif t == "list":
            member = self.shape_static(s["member"]["shape"])
            kind = "Str" if self.shapes[s["member"]["shape"]]["type"] == "string" else "Unconstrained"
            self.statics[ident] = (
                f"static {ident}: List<{kind}> = List {{ len: Len {{ min: {opt(s.get('min'))}, max: {opt(s.get('max'))} }}, "
                f"member: &{member} }};"
            )
            self.rows.append(f"    ShapeRow::Len({rust_str(name)}, &{ident}.len),")
        elif t == "map":
            key = self.shape_static(s["key"]["shape"])
            value = self.shape_static(s["value"]["shape"])
            self.statics[ident] = (
                f"static {ident}: Map = Map {{ len: Len {{ min: {opt(s.get('min'))}, max: {opt(s.get('max'))} }}, "
                f"key: &{key}, value: &{value} }};"
            )
            self.rows.append(f"    ShapeRow::Len({rust_str(name)}, &{ident}.len),")
        else:
            raise SystemExit(f"shape {name}: type {t} is not handled")
        return ident

    def member_lines(self, shape: dict, recv: str, path: str) -> tuple[list[str], list[str]]:
        """Checks of `shape`'s members on `recv`, and their table rows."""
        lines, rows = [], []
        required = set(shape.get("required", []))
        for m in self.order(shape):
            target = shape["members"][m]["shape"]
            ident = self.shape_static(target)
            t = self.shapes[target]["type"]
            field = snake(m)
            elem = self.shapes[target].get("member", {}).get("shape")
            access = "as_deref" if t == "list" and self.shapes[elem]["type"] == "structure" else "as_ref"
            at = f"Path::Member({rust_str(camel(m))})" if path == "" else f"Path::Nested({path}, {rust_str(camel(m))})"
            lines.append(
                f"    v.member({at}, {recv}.{field}.{access}(), {str(m in required).lower()}, &{ident});"
            )
            if target == "GrantTokenList":
                lines.append(f"    v.known_grant_tokens({recv}.{field}.as_deref());")
            rows.append(f"({rust_str(m)}, {rust_str(target)}, {str(m in required).lower()})")
        return lines, rows

    def struct_impl(self, name: str) -> None:
        if name in self.struct_impls:
            return
        self.struct_impls[name] = ""  # guards recursion
        rust = STRUCTS.get(name)
        if rust is None:
            raise SystemExit(f"structure {name}: add its Rust type to STRUCTS")
        lines, _ = self.member_lines(self.shapes[name], "self", "&at")
        body = "\n".join("    " + line for line in lines)
        self.struct_impls[name] = (
            f"impl Member for {rust} {{\n    type Shape = Unconstrained;\n"
            f"    fn check(&self, v: &mut Validator, at: Path<'_>, _: &Unconstrained) {{\n"
            f"{body}\n    }}\n}}"
        )

    def run(self, digest: str) -> tuple[str, str]:
        ops = []
        table = []
        for op in sorted(self.model["operations"]):
            spec = self.model["operations"][op]
            module = MODULES.get(op, snake(op))
            rust = f"crate::ops::{module}::{op}"
            inp = spec.get("input", {}).get("shape")
            if inp is None:
                lines, rows = [], []
            else:
                lines, rows = self.member_lines(self.shapes[inp], "req", "")
            body = "\n".join("    " + line for line in lines)
            arg = "req" if lines else "_req"
            varg = "v" if lines else "_v"
            ops.append(
                f"impl Constrained for {rust} {{\n"
                f"    fn check({arg}: &Self::Request, {varg}: &mut Validator) {{\n{body}\n    }}\n}}"
            )
            table.append(f"    ({rust_str(op)}, &[{', '.join(rows)}]),")
        out = [
            "// @generated by scripts/model/gen_constraints.py from crates/tresor/tests/data/kms-model.json.",
            "// Do not edit: change the model (scripts/model/trim_kms_model.py) and re-run the script.",
            "// Not formatted by rustfmt (`#[rustfmt::skip]` on its `mod`): one line per shape.",
            "//! The botocore model's request constraints: every shape's, and the members each",
            "//! operation checks (the checks themselves are in `model_checks.rs`).",
            "",
            "use super::shape::{Int, Len, List, Map, Pattern, Str, Unconstrained};",
            "",
            "/// SHA-256 (hex) of the model file this table was generated from.",
            f"pub const MODEL_SHA256: &str = {rust_str(digest)};",
            "",
            "/// One model shape's constraints, for the staleness test.",
            "pub enum ShapeRow {",
            "    /// A string shape.",
            "    Str(&'static str, &'static Str),",
            "    /// A blob, list or map shape.",
            "    Len(&'static str, &'static Len),",
            "    /// An integer shape.",
            "    Int(&'static str, &'static Int),",
            "}",
            "",
            "/// Every constrained shape a request uses.",
            "pub static SHAPES: &[ShapeRow] = &[",
            *self.rows,
            "];",
            "",
            "/// A request member checked: (member, shape, required).",
            "pub type MemberRow = (&'static str, &'static str, bool);",
            "",
            "/// Per operation, its request members checked, in order.",
            "pub static OPERATIONS: &[(&str, &[MemberRow])] = &[",
            *table,
            "];",
            "",
        ]
        out.extend(self.statics[ident] for ident in sorted(self.statics))
        tables = re.sub(r"(?m)^static ", "pub(super) static ", "\n".join(out).rstrip("\n") + "\n")
        checks = [
            "// @generated by scripts/model/gen_constraints.py from crates/tresor/tests/data/kms-model.json.",
            "// Do not edit: change the model (scripts/model/trim_kms_model.py) and re-run the script.",
            "// Not formatted by rustfmt (`#[rustfmt::skip]` on its `mod`): one line per check.",
            "//! Each operation's request checked against the shapes of `model.rs`.",
            "#![allow(clippy::needless_borrow)]",
            "",
            "use super::model::*;",
            "use super::shape::{Constrained, Member, Path, Unconstrained};",
            "use super::Validator;",
            "",
        ]
        for name in sorted(self.struct_impls):
            checks.append(self.struct_impls[name])
            checks.append("")
        checks.extend(o + "\n" for o in ops)
        return tables, "\n".join(checks).rstrip("\n") + "\n"


def main() -> None:
    with open(MODEL, "rb") as f:
        raw = f.read()
    texts = zip((OUT, OUT_CHECKS), Gen(json.loads(raw)).run(hashlib.sha256(raw).hexdigest()))
    if "--check" in sys.argv[1:]:
        for path, text in texts:
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    sys.exit(f"{path} is stale: run scripts/model/gen_constraints.py")
        return
    for path, text in texts:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
