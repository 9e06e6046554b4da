"""Converters from other tools' SLO specs to slodrift spec data: `sloth.sloth_to_spec`,
`openslo.openslo_to_spec`, `pyrra.pyrra_to_spec`, pure functions from a parsed source (`common.parse_source`)
to spec data, and what they share (`common`). `cli` is the `slodrift import` command.
"""
