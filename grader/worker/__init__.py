"""Running student code: a sandboxed subprocess (``runtime``) and its judge-side client."""
