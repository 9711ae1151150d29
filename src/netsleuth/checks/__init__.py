"""Network checks (scan): registry, runner and the rules."""
