"""Batch jobs against a Prometheus: baseline capture, scoring, daily/weekly reports, backtest, backfill."""
