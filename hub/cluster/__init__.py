"""Scale-out on PostgreSQL: processes as peers, each session held by one of them (docs/architecture.md)."""
