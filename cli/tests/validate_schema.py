#!/usr/bin/env python3
"""Shows: every shipped scenario file (scenarios/**/*.json) validates against
docs/scenario.schema.json, and the schema itself is a valid JSON Schema.

usage: validate_schema.py SCHEMA SCENARIO_DIR; exit 77 (skip) without jsonschema."""
import glob
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("python3 jsonschema module not installed: skipped")
    sys.exit(77)

schema_path, scenario_dir = sys.argv[1], sys.argv[2]
with open(schema_path) as f:
    schema = json.load(f)
validator_class = jsonschema.validators.validator_for(schema)
validator_class.check_schema(schema)
validator = validator_class(schema)
files = sorted(glob.glob(os.path.join(scenario_dir, "**", "*.json"), recursive=True))
if not files:
    print("no scenario files found")
    sys.exit(1)
failed = 0
for path in files:
    with open(path) as f:
        doc = json.load(f)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    for e in errors:
        print(f"{path}: /{'/'.join(map(str, e.path))}: {e.message}")
    failed += bool(errors)
    print(f"{path}: {'INVALID' if errors else 'valid'}")
# Bad documents must be rejected too, or the schema checks nothing.
for bad in [{"lwps": []}, {"name": "x", "lwps": [{"name": "t", "ops": [{"args": {}}]}]},
            {"name": "x", "lwps": [{"name": "t", "ops": []}], "explore": {"strategy": "bfs"}},
            {"name": "x", "lwps": [{"name": "t", "ops": []}], "bogus": 1}]:
    if validator.is_valid(bad):
        print(f"schema accepts a bad document: {json.dumps(bad)}")
        failed += 1
sys.exit(1 if failed else 0)
