"""Load a spec: YAML → JSON Schema → checks the schema cannot express → the typed model.

Every problem is reported with the file, the YAML path and, where known, the line, and all problems
are collected before giving up, so a user fixes a spec in one pass instead of one error per run.

- `load`: reading files, the steps in order, checks across files;
- `yaml_parse`, `document`: defensive YAML parsing, with the line of every node; issues that point at it;
- `schema_check`: the JSON Schema, with messages a spec author can act on;
- `build`, `slos`, `tiers`, `indicators`, `drift_settings`: the model, part by part, with the checks the
  schema cannot express, collected in one `context.Context` per spec;
- `defaults`, `values`: what a spec may leave out; percentages, amounts and units as exact numbers.
"""

from slodrift.generator.spec.defaults import RESERVED_LABELS
from slodrift.generator.spec.document import SpecError, SpecIssue
from slodrift.generator.spec.load import iter_slos, load_spec, load_spec_text, load_specs
from slodrift.generator.spec.values import parse_amount
from slodrift.generator.spec.yaml_parse import MAX_BYTES, parse_yaml_documents

__all__ = [
    "MAX_BYTES",
    "RESERVED_LABELS",
    "SpecError",
    "SpecIssue",
    "iter_slos",
    "load_spec",
    "load_spec_text",
    "load_specs",
    "parse_amount",
    "parse_yaml_documents",
]
