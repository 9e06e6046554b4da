"""`python -m slodrift`."""

from slodrift.cli import entry

entry()
