"""Bootstrap: what an environment needs before its first run (the state backend, its identity,
the image registry). It may import facts and adapters."""
