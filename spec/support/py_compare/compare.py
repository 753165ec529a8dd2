"""Compare what the Python SDK's examples and their Lua ports gave (compare.sh ran them): the messages each SDK
handed to the example, field by field, and the stdouts, line by line. Prints one table row per case; the details
of every difference go to <WORK>/<case>/report.txt.

    python3 compare.py WORK CASE...

Messages: the Python messages are aligned with the Lua ones in order. The Lua library hands on frames of types the
Python parser drops (it returns None for unknown types): those are set aside first and counted as "Lua only". For
each pair, the Python class must be the Lua class or one of its ancestors (the Lua library has typed subclasses of
SystemMessage, e.g. StatusMessage), and every field of the Python dataclass is compared with the Lua field of the
same name, recursively (raw dicts key by key, both ways); None in Python equals an absent field in Lua (typed Lua
fields leave nulls out). Lua's extra top-level fields (`type`, and the fields its typed system subclasses lift out
of `data`) are not differences. Ignored everywhere, as they differ from run to run: session_id, uuid, duration_ms,
duration_api_ms, timestamp, and the fields named in VOLATILE below; UUIDs, subagent ids and durations inside
strings are masked.

Stdout: UUIDs and "Duration: Nms" masked; a container literal on a line (Python's repr, the port's JSON or Python-
style list) and a multi-line json.dumps(indent=N) value are compared as values; per-example rules in STDOUT_OPTS.
Model requests: the bodies the model server logged (metadata, which holds the session id, left out) must be equal.
"""

import ast
import difflib
import json
import math
import os
import re
import sys

VOLATILE = {
    "session_id", "uuid", "duration_ms", "duration_api_ms", "timestamp",
    # a hook's run id and the agent ids the CLI makes up
    "hook_id", "agentId", "agent_id",
    # how long the CLI took in a tool (Bash, Read, the Agent tool)
    "durationMs", "totalDurationMs", "elapsed_time_seconds",
    # a subagent's task: its random id and its clock times
    "task_id", "start_time", "end_time",
    # newer CLIs (2.1.332): a task's run id (clock + random) and the socket named after the CLI's pid
    "run_id", "messaging_socket_path",
}
PY_TYPES = {"user", "assistant", "system", "result", "stream_event", "rate_limit_event", "conversation_reset"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
AGENT_ID = re.compile(r"\ba[0-9a-f]{16}\b")  # a subagent's id, random


DURATION = re.compile(r"(duration_ms: )\d+")  # in the Agent tool's result text


def mask(s):
    return DURATION.sub(r"\1<n>", AGENT_ID.sub("<agent-id>", UUID.sub("<uuid>", s)))


class Diff:
    def __init__(self):
        self.fields = 0
        self.ignored = 0
        self.diffs = []

    def compare(self, path, py, lua):
        if isinstance(py, dict) and isinstance(lua, dict) and "_class" in py:
            # a dataclass (a message, a content block): the class, then the Python fields only
            self.fields += 1
            if py["_class"] not in lua.get("_classes", []):
                self.diffs.append(f"{path}: class Python {py['_class']} / Lua {lua.get('_class')}")
            for k in py:
                if k in ("_class", "_classes"):
                    continue
                if k in VOLATILE:
                    self.ignored += 1
                    continue
                self.compare(f"{path}.{k}", py[k], lua.get(k))
            return
        if isinstance(py, dict) and isinstance(lua, dict):
            for k in sorted(set(py) | set(lua)):
                if k in VOLATILE:
                    self.ignored += 1
                    continue
                self.compare(f"{path}.{k}", py.get(k), lua.get(k))
            return
        if isinstance(py, list) and isinstance(lua, list):
            if len(py) != len(lua):
                self.diffs.append(f"{path}: {len(py)} items in Python, {len(lua)} in Lua")
            for i, (a, b) in enumerate(zip(py, lua)):
                self.compare(f"{path}[{i}]", a, b)
            return
        self.fields += 1
        if not same(py, lua):
            self.diffs.append(f"{path}: Python {short(py)} / Lua {short(lua)}")


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or math.isclose(a, b, rel_tol=1e-12)
    if isinstance(a, str) and isinstance(b, str):
        return mask(a) == mask(b)
    return a == b


def short(v):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= 160 else s[:157] + "..."


def load(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def compare_messages(py, lua, report):
    """The differences, the count of Lua-only messages, and {Lua class: Python class} where they differ."""
    d = Diff()
    lua_only = [m for m in lua if m.get("type") not in PY_TYPES]
    lua = [m for m in lua if m.get("type") in PY_TYPES]
    for m in lua_only:
        report.append(f"  Lua only (a type the Python parser drops): {m.get('_class')} type={m.get('type')}")
    if len(py) != len(lua):
        d.diffs.append(f"message count: {len(py)} in Python, {len(lua)} in Lua: "
                       f"{[m['_class'] for m in py]} / {[m['_class'] for m in lua]}")
    classes = {}
    for i, (p, l) in enumerate(zip(py, lua)):
        d.compare(f"[{i}] {p['_class']}", p, l)
        if p["_class"] != l.get("_class") and p["_class"] in l.get("_classes", []):
            classes[l["_class"]] = p["_class"]
    return d, len(lua_only), classes


# Stdout: container literals (Python's reprs, Lua's JSON) are compared as values.
def literal(text):
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(text)
        except Exception:
            pass
    return None


def canon_line(line, opts):
    line = mask(line)
    line = re.sub(r"Duration: \d+ms", "Duration: <n>ms", line)
    for i, ch in enumerate(line):
        if ch in "[{":
            for j in range(len(line), i, -1):
                if line[j - 1] in "]}":
                    v = literal(line[i:j])
                    if v is not None:
                        if opts.get("sort_lists") and isinstance(v, list):
                            v = sorted(v, key=str)
                        return line[:i] + json.dumps(v, sort_keys=True, ensure_ascii=False) + line[j:]
            break
    return line


# Per example: what of stdout is compared, and why anything is left out.
STDOUT_OPTS = {
    # print(message): Python prints dataclass reprs, Lua its messages' tostring: only the class of each line.
    "include_partial_messages": {"class_only": True},
    # Python lists data.keys() in the CLI's order; a Lua table has none, the port sorts them.
    "plugin_example": {"sort_lists": True},
    # a Python set prints in hash order; the port sorts the names.
    "streaming_mode bash_command": {"sort_items": "Message types received: "},
    # the suggestions: Python's PermissionUpdate repr / the Lua PermissionUpdate's tostring.
    "tool_permission_callback": {"skip_prefix": "   Suggestions: "},
}


def json_blocks(lines):
    """Lines with each multi-line JSON value (json.dumps(indent=N)) folded into one line, as compact JSON."""
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(.*?)([\[{])$", line)
        folded = False
        if m:
            closing = "}" if m.group(2) == "{" else "]"
            for j in range(i + 1, min(len(lines), i + 200)):
                if lines[j] == closing:
                    try:
                        v = json.loads(m.group(2) + "\n" + "\n".join(lines[i + 1:j + 1]))
                    except ValueError:
                        break
                    out.append(m.group(1) + json.dumps(v, sort_keys=True, ensure_ascii=False))
                    i, folded = j + 1, True
                    break
        if not folded:
            out.append(line)
            i += 1
    return out


def canon_stdout(text, opts, classes=None):
    out = []
    for line in json_blocks(text.splitlines()):
        if opts.get("class_only"):
            m = re.match(r"^([A-Z][A-Za-z]*)\(", line)
            if m:
                line = (classes or {}).get(m.group(1), m.group(1)) + "(...)"
        if opts.get("skip_prefix") and line.startswith(opts["skip_prefix"]):
            line = opts["skip_prefix"] + "<repr>"
        if opts.get("sort_items") and line.startswith(opts["sort_items"]):
            items = line[len(opts["sort_items"]):].split(", ")
            line = opts["sort_items"] + ", ".join(sorted(items))
        out.append(canon_line(line, opts))
    return out


# Known differences, named in the table when a case has any.
NOTES = {
    "agents": "agents order: a Lua table has none (see report)",
    "streaming_mode with_interrupt": "timing: where the 2 s interrupt cut the count",
    "streaming_mode control_protocol": "timing: where the 2 s interrupt cut the count",
    "setting_sources all": "after the break at init, Python's disconnect let the CLI ask the model first",
}


def requests(path):
    """The model requests the CLI made (bodies, metadata left out), masked, as JSON texts."""
    out = []
    for r in load(path):
        body = r.get("body")
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k != "metadata"}
            out.append(mask(json.dumps(body, sort_keys=True, ensure_ascii=False)))
    return out


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return None


def main():
    work, cases = sys.argv[1], sys.argv[2:]
    rows = []
    for case in cases:
        dir_ = os.path.join(work, case.replace(" ", "_"))
        report = [f"== {case}"]
        lua_status = (read(os.path.join(dir_, "lua.status")) or "?").strip()
        lua_msgs = load(os.path.join(dir_, "lua.messages.jsonl"))
        if os.path.exists(os.path.join(dir_, "py.skip")):
            rows.append((case, "-", len(lua_msgs), "-", "-", "-", "-", "-",
                         f"Python not run (PY_SKIP); Lua exit {lua_status}"))
            continue
        py_status = (read(os.path.join(dir_, "py.status")) or "?").strip()
        py_msgs = load(os.path.join(dir_, "py.messages.jsonl"))
        d, lua_only, classes = compare_messages(py_msgs, lua_msgs, report)
        if py_status != lua_status:
            d.diffs.append(f"exit status: Python {py_status} / Lua {lua_status}")
        opts = STDOUT_OPTS.get(case, STDOUT_OPTS.get(case.split(" ")[0], {}))
        py_out = canon_stdout(read(os.path.join(dir_, "py.stdout")) or "", opts)
        lua_out = canon_stdout(read(os.path.join(dir_, "lua.stdout")) or "", opts, classes)
        out_diff = [l for l in difflib.unified_diff(py_out, lua_out, "python", "lua", lineterm="", n=0)
                    if l[:1] in "+-" and not l.startswith(("+++", "---"))]
        report += ["  " + x for x in d.diffs]
        if out_diff:
            report.append("  stdout (- Python, + Lua):")
            report += ["    " + x for x in out_diff]
        with open(os.path.join(dir_, "report.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(report) + "\n")
        py_req = requests(os.path.join(dir_, "py.requests.jsonl"))
        lua_req = requests(os.path.join(dir_, "lua.requests.jsonl"))
        same_req = sum(1 for a, b in zip(py_req, lua_req) if a == b)
        if len(py_req) != len(lua_req) or same_req != len(py_req):
            report.append(f"  model requests: {len(py_req)} from Python, {len(lua_req)} from Lua, {same_req} the same")
            with open(os.path.join(dir_, "report.txt"), "a", encoding="utf-8") as f:
                f.write(report[-1] + "\n")
        note = "" if py_status == lua_status else f"exit {py_status}/{lua_status}"
        if py_status != "0" and py_status == lua_status:
            note = f"both exit {py_status}"
        if d.diffs or out_diff or same_req != max(len(py_req), len(lua_req)):
            note = "; ".join(x for x in (note, NOTES.get(case, "")) if x)
        rows.append((case, len(py_msgs), len(lua_msgs), lua_only, d.fields, len(d.diffs),
                     f"{len(out_diff)} of {max(len(py_out), len(lua_out))}",
                     f"{same_req} of {max(len(py_req), len(lua_req))}", note))
    head = ("case", "py msgs", "lua msgs", "lua only", "fields", "diffs", "stdout lines differing",
            "same requests", "note")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    total = sum(r[5] for r in rows if isinstance(r[5], int))
    print(f"\n{len(rows)} cases, {total} message differences; details in {work}/<case>/report.txt")


if __name__ == "__main__":
    main()
