"""Operations: the health and readiness probes, Prometheus metrics (docs/operations.md)."""
