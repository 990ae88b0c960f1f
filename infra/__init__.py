"""What every layer may use and none of the research: atomic file writes (`atomic_io`) and
the entry points' error handling (`entry_point`). It imports nothing of the project, so
`databases/`, the bottom layer (run_scripts -> meta -> tasks, models, databases), can use it
without a cycle."""
