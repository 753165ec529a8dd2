"""The Python side of the comparison harness (compare.sh): runs a Python SDK example with the SDK's message parser
wrapped, and writes every message the SDK hands to the example as one JSON line to the file named by
$PY_COMPARE_TAP: its dataclass fields (recursively), plus `_class` (the class name) and `_classes` (the class and
its dataclass ancestors). Messages the parser drops (unknown types: None) are not written, as the example never
sees them.

    python3 py_tap.py /path/to/example.py [args...]
"""

import dataclasses
import json
import os
import runpy
import sys

from claude_agent_sdk._internal import client as internal_client
from claude_agent_sdk._internal import message_parser

_out = open(os.environ["PY_COMPARE_TAP"], "a")


def plain(v):
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        d = {
            "_class": type(v).__name__,
            "_classes": [c.__name__ for c in type(v).__mro__ if dataclasses.is_dataclass(c)],
        }
        for f in dataclasses.fields(v):
            d[f.name] = plain(getattr(v, f.name))
        return d
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


_parse = message_parser.parse_message


def tapped(data):
    message = _parse(data)
    if message is not None:
        _out.write(json.dumps(plain(message), default=repr) + "\n")
        _out.flush()
    return message


# client.py imports parse_message from the module when it runs; _internal/client.py imported the name.
message_parser.parse_message = tapped
internal_client.parse_message = tapped

script = os.path.abspath(sys.argv[1])
sys.argv = [script] + sys.argv[2:]
runpy.run_path(script, run_name="__main__")
