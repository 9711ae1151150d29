"""One module per check. Each registers itself with netsleuth.checks.base.register."""
