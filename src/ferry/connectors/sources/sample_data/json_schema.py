"""JSON schemas that describe the generated Arrow types exactly, nested structs and lists included."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from ferry.cdk import json_type_of_arrow


def property_of(dtype: pa.DataType) -> dict[str, Any]:
    prop = dict(json_type_of_arrow(dtype))
    if pa.types.is_struct(dtype):
        fields = [dtype.field(i) for i in range(dtype.num_fields)]
        prop["properties"] = {f.name: property_of(f.type) for f in fields}
        prop["additionalProperties"] = False
    elif pa.types.is_list(dtype):
        prop["items"] = property_of(dtype.value_type)
    return prop


def stream_json_schema(schema: pa.Schema) -> dict[str, Any]:
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": False,
        "properties": {f.name: property_of(f.type) for f in schema},
    }
