"""HTTP routers, one per service area."""
