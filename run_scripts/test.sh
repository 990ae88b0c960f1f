#!/usr/bin/env bash
# The test suite (installs the project first if needed): bash run_scripts/test.sh [pytest args]
source "$(dirname "$0")/_env.sh" "$@"
exec python -m pytest -q tests "$@"
