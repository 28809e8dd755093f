"""Small file helpers shared by the layers: JSON lines, atomic writes."""
import json
import os
import tempfile


def write_atomic(path, text):
    """Write text to path through a temporary file and a rename."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path, obj):
    write_atomic(path, json.dumps(obj, indent=2, sort_keys=True,
                                  ensure_ascii=False) + "\n")


def read_json(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def write_jsonl(path, records):
    lines = [json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n"
             for r in records]
    write_atomic(path, "".join(lines))
    return len(lines)


def read_jsonl(path):
    records = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                records.append(json.loads(line))
    return records
