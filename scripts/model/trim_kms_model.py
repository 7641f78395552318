#!/usr/bin/env python3
"""Writes the trimmed KMS API model Tresor's tests read: botocore's
``kms/2014-11-01/service-2.json`` without documentation strings, with keys sorted.

Usage:  scripts/model/trim_kms_model.py [SERVICE-2.JSON[.gz]] > crates/tresor/tests/data/kms-model.json

Without an argument it reads the model of the installed botocore (the interop
venv pins the version: scripts/interop/requirements.txt). Re-run it when
botocore is bumped; crates/tresor/tests/api_coverage.rs then names every new
operation or member that docs/api-coverage.md does not list yet.
"""

from __future__ import annotations

import gzip
import json
import os
import sys

DROP = {"documentation", "documentationUrl", "examples", "deprecatedMessage"}


def load(path: str | None) -> dict:
    if path is None:
        import botocore  # noqa: PLC0415

        base = os.path.join(os.path.dirname(botocore.__file__), "data", "kms", "2014-11-01", "service-2.json")
        path = base if os.path.exists(base) else base + ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def trim(node):
    if isinstance(node, dict):
        out = {k: trim(v) for k, v in node.items() if k not in DROP}
        if node.get("type") == "structure" and "members" in node:
            # The keys are written sorted; the model's member order (the order AWS
            # reports validation errors in) is kept here for gen_constraints.py.
            out["memberOrder"] = list(node["members"])
        return out
    if isinstance(node, list):
        return [trim(v) for v in node]
    return node


def main() -> None:
    model = load(sys.argv[1] if len(sys.argv) > 1 else None)
    out = {
        "metadata": trim(model["metadata"]),
        "operations": trim(model["operations"]),
        "shapes": trim(model["shapes"]),
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
