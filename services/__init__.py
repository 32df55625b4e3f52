"""Stage services whose core is pure: the core's logic on the bus (validator, executor)."""
