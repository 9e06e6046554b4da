"""The long-running exporter: publishes the release baseline and stability scores for Prometheus."""

DEFAULT_PORT = 9877  # outside Prometheus' own 9090-9099; documented in the README
