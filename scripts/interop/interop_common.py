"""Small shared harness for the Tresor interop scripts.

Each script registers ordered steps; every step is one check built from
plain ``assert`` statements.  A failing step is recorded and the run goes
on with the next one, so a single server bug does not hide the others.
Steps that need state from an earlier (failed) step are recorded as
skipped.

Results are printed and, when ``INTEROP_RESULTS`` names a file, appended
to it as tab-separated lines ``STATUS<TAB>part<TAB>name<TAB>detail``
(STATUS is PASS, FAIL or SKIP) so that scripts/interop.sh can add up the
totals over all parts.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from typing import Any, Callable, Dict, List, Optional, Sequence

DEV_ACCOUNT = "111122223333"
DEV_REGION = "us-east-1"


def endpoint() -> str:
    ep = os.environ.get("TRESOR_ENDPOINT", "").strip()
    if not ep:
        sys.stderr.write("TRESOR_ENDPOINT is not set (e.g. http://127.0.0.1:PORT)\n")
        sys.exit(2)
    return ep.rstrip("/")


def error_code(exc: BaseException) -> Optional[str]:
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def expect_client_error(code: str, fn: Callable[..., Any], *args: Any, **kwargs: Any):
    """Call fn and assert it raises botocore ClientError with the given code."""
    from botocore.exceptions import ClientError

    try:
        result = fn(*args, **kwargs)
    except ClientError as exc:
        got = error_code(exc)
        assert got == code, f"expected ClientError {code}, got {got}: {exc}"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        assert status == 400, f"expected HTTP 400 for {code}, got {status}"
        return exc
    raise AssertionError(f"expected ClientError {code}, but the call succeeded: {_short(result)}")


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class Runner:
    def __init__(self, part: str):
        # INTEROP_PART renames the part (the TLS run reports as boto3-tls).
        self.part = os.environ.get("INTEROP_PART") or part
        self.steps: List[tuple] = []
        self.state: Dict[str, Any] = {}
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures: List[str] = []
        self._results_path = os.environ.get("INTEROP_RESULTS")

    def step(self, name: str, requires: Sequence[str] = ()):
        """Decorator: register ``fn(state)`` as a check named ``name``."""

        def deco(fn: Callable[[Dict[str, Any]], None]):
            self.steps.append((name, tuple(requires), fn))
            return fn

        return deco

    def _record(self, status: str, name: str, detail: str = "") -> None:
        if self._results_path:
            with open(self._results_path, "a", encoding="utf-8") as fh:
                fh.write(f"{status}\t{self.part}\t{_one_line(name)}\t{_one_line(detail)}\n")

    def run(self) -> int:
        print(f"== {self.part}: {len(self.steps)} checks")
        for name, requires, fn in self.steps:
            missing = [r for r in requires if r not in self.state]
            if missing:
                self.skipped += 1
                detail = "needs " + ", ".join(missing) + " from an earlier failed check"
                print(f"  SKIP {name} ({detail})")
                self._record("SKIP", name, detail)
                continue
            start = time.monotonic()
            try:
                fn(self.state)
            except Exception as exc:  # noqa: BLE001 - every failure is reported
                self.failed += 1
                if isinstance(exc, AssertionError):
                    detail = str(exc) or "assertion failed"
                    where = traceback.extract_tb(exc.__traceback__)[-1]
                    detail = f"{detail} [{os.path.basename(where.filename)}:{where.lineno}]"
                else:
                    detail = f"{type(exc).__name__}: {exc}"
                self.failures.append(f"{name}: {_one_line(detail)}")
                print(f"  FAIL {name}: {_one_line(detail)}")
                if os.environ.get("INTEROP_VERBOSE"):
                    traceback.print_exc()
                self._record("FAIL", name, detail)
            else:
                self.passed += 1
                ms = (time.monotonic() - start) * 1000
                print(f"  ok   {name} ({ms:.0f} ms)")
                self._record("PASS", name)
        summary = f"{self.part} summary: passed={self.passed} failed={self.failed} skipped={self.skipped}"
        print(summary)
        for failure in self.failures:
            print(f"  - {failure}")
        return 1 if (self.failed or self.skipped) else 0
