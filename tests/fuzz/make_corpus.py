#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target into tests/fuzz/corpus/<target>/.

Each seed is a valid input in the encoding of the serde it feeds (Kafka's
big-endian integers, the window and join layouts of operators/, Protobuf's
wire format, JSON), behind the target's selector byte where it has one.
Run it again after changing an encoding; crash inputs kept as regression
seeds (crash-*) are left alone.
"""

import json
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))


def i64(v):
    return struct.pack(">q", v)


def i32(v):
    return struct.pack(">i", v)


def u32(v):
    return struct.pack(">I", v)


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(number, wire_type, payload):
    key = varint((number << 3) | wire_type)
    if wire_type == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def primitive_serdes():
    uuid = b"123e4567-e89b-12d3-a456-426614174000"
    return {
        "string": b"\x00hello, world",
        "bytes": b"\x01\x00\xff\x10",
        "int32": b"\x02" + i32(-42),
        "int64": b"\x03" + i64(1_700_000_000_123),
        "double": b"\x04" + struct.pack(">d", 3.25),
        "double_nan": b"\x04" + struct.pack(">Q", 0x7FF8000000000000),
        "uuid": b"\x05" + uuid,
        "uuid_upper": b"\x05" + uuid.upper(),
        "nullable_int32": b"\x06" + i32(7),
        "nullable_uuid": b"\x07" + uuid,
    }


def json_doc():
    full = {
        "id": "t1",
        "done": False,
        "n": {"i8": -128, "u8": 255, "i16": -300, "u16": 65535, "i32": -2147483648, "u32": 4294967295,
              "i64": -9223372036854775808, "u64": 18446744073709551615, "f": 1.5, "d": -2.5e-300},
        "tags": ["home", "caf\u00e9"],
        "flags": [True, False],
        "leaves": [{"at": "2026-11-27T20:48:09.123Z", "note": None}, {"at": None, "note": "x"}],
        "counts": {"a": 1, "b": -2},
        "series": {"s": [0.5, 1e10]},
        "due": "2026-11-27T21:48:09.123456789+01:00",
    }
    return {
        "minimal": b'{"id":"t1"}',
        "full": json.dumps(full, separators=(",", ":"), ensure_ascii=False).encode(),
        "escapes": b'{"id":"a\\u00e9\\n\\"b\\ud83d\\ude00","unknown":[1,{"x":null}]}',
    }


def protobuf():
    assignee = field(1, 2, b"ann") + field(2, 0, varint(7))
    task = (field(1, 2, b"write docs") + field(2, 0, varint(1_700_000_000_000)) + field(3, 2, b"home")
            + field(3, 2, b"work") + field(4, 2, assignee) + field(5, 0, varint(2)))
    unknown = field(99, 0, varint(5)) + field(98, 5, b"\x01\x02\x03\x04")
    legacy = field(1, 0, varint(42)) + field(2, 2, b"kept")
    return {
        "task": b"\x00" + task,
        "task_unknown_fields": b"\x00" + task + unknown,
        "legacy": b"\x01" + legacy,
        "legacy_missing_id": b"\x01" + field(2, 2, b"no id"),
        "task_json": b'\x02{"title":"write docs","createdAtMs":"1700000000000","tags":["home"],'
                     b'"assignee":{"name":"ann","teamId":"7"},"priority":"PRIORITY_HIGH"}',
        "legacy_json": b'\x03{"id":"42","note":"kept"}',
    }


def store_layouts():
    return {
        "time_windowed": b"\x00" + b"key" + i64(1_000),
        "time_windowed_max_size": b"\x01" + b"key" + i64(5),
        "session_windowed": b"\x02" + b"key" + i64(2_000) + i64(1_000),
        "session_windowed_int32": b"\x03" + i32(9) + i64(2_000) + i64(1_000),
        "value_and_timestamp": b"\x04" + i64(1_234) + i64(-1),
        "value_and_timestamp_string": b"\x05" + i64(1_234) + b"value",
        "value_without_timestamp": b"\x06" + i64(0) + i32(17),
        "change_new": b"\x07\x00" + i64(5),
        "change_old": b"\x07\x01" + i64(-5),
        "nullable_of": b"\x08" + b"text",
        "join_window_key": b"\x09" + b"key" + i64(1_000) + u32(3),
        "timestamped_key_and_join_side": b"\x0a" + i64(1_000) + b"\x01" + i32(4) + u32(0),
        "left_value": b"\x0b\x01left",
        "right_value": b"\x0b\x00" + i64(8),
    }


def dead_letter_headers():
    def header(index, value):
        if value is None:
            return bytes([index, 255])
        return bytes([index, len(value)]) + value

    values = [b"eddy::serde_error", b"int32: expected 4 bytes, got 3", b"numbers", b"0", b"17",
              b"KSTREAM-SOURCE-0000000000", b"1", b"dlq-app", b"1700000000123"]
    complete = b"".join(header(i, v) for i, v in enumerate(values))
    return {
        "complete": complete,
        "with_trace": header(9, b"t-9") + complete,
        "twice": complete + header(2, b"numbers.dlq") + header(4, b"-1"),
        "null_message": complete + header(1, None),
    }


targets = {
    "primitive_serdes_fuzz": primitive_serdes,
    "json_fuzz": json_doc,
    "protobuf_fuzz": protobuf,
    "store_layouts_fuzz": store_layouts,
    "dead_letter_headers_fuzz": dead_letter_headers,
}

for target, seeds in targets.items():
    folder = os.path.join(here, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
print(f"make_corpus: wrote seeds for {len(targets)} targets", file=sys.stderr)
