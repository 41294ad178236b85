"""The `cited` command line: one module per command group, all above every other layer."""
