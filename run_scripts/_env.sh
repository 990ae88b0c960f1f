# Sourced by the run scripts (`source _env.sh "$@"`): makes sure the project and its pinned
# dependencies are installed in ./.venv (created on first use), then puts that venv first
# on PATH.
# SSML_EXTRAS=gpu installs the CUDA build of TensorFlow as well.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=$(realpath -m "${SSML_VENV:-.venv}")
extras="test${SSML_EXTRAS:+,$SSML_EXTRAS}"
stamp="$VENV/.installed-$(cat setup.py | sha256sum | cut -c1-16)-$extras"
if [ ! -f "$stamp" ]; then
  echo "Installing the project and its dependencies into $VENV (first run only)..." >&2
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[$extras]" --config-settings editable_mode=compat 2>&1 \
    | grep -v "is ignored: it is neither a file nor a directory" >&2 || true
  "$VENV/bin/python" -c "import tensorflow, tensorflow_addons, tensorflow_datasets" \
    || { echo "Installing dependencies failed; see the messages above." >&2; exit 1; }
  rm -f "$VENV"/.installed-* && touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-1}
# The command that reproduces this run (the script and the user's own flags), for results;
# sourced from anything but a run script, the program records its own command line.
if [[ "$(basename "$0")" == *.sh ]]; then
  export SSML_RUN_COMMAND="bash run_scripts/$(basename "$0")$( (( $# )) && printf ' %q' "$@")"
else
  unset SSML_RUN_COMMAND
fi
