"""Entry points: `python -m run_scripts.<name>` and the shell scripts beside them."""
