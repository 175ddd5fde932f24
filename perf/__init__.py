"""Benchmarks: k6 against a real gunicorn on DynamoDB Local (see docs/PERFORMANCE.md)."""
