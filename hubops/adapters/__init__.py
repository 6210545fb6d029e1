"""Adapters: the outside world, one module per party (the engine, AWS, DNS, load balancers, git,
GitHub, HCL files, the record stores, the terminal). They may import facts."""
