"""Copy a run's results.json into results/, without the paths of the machine it ran on.

    python -m run_scripts.collect_results RUN_DIR/results.json results/omniglot/x.json \\
        --root=FOLDER_THE_RUNS_WERE_KEPT_IN

A destination that is a folder gets the file `<RUN_DIR's name>.json` in it.

Every occurrence of --root in the results (command, output_dir, gan_dir, checkpoint) is
written as $EXP, of --gans (a GAN cache kept elsewhere) as $GANS, and of the data's
folder (a --data_dir given on the command line) as $DATA, so a command still reads as the
one that ran (`--output_dir=$EXP/runs/x`: set EXP and DATA to rerun it); the data source
is written as its file name. The numbers are copied as they are.
"""
import json
import os

from absl import app, flags

from infra.atomic_io import write_json_atomic
from infra.entry_point import run_main
from meta.results import check_results

flags.DEFINE_string("root", None, "Folder outside the repository the runs were kept in.",
                    required=True)
flags.DEFINE_string("gans", None, "A GAN cache outside --root the runs used (--gan_dir).")
FLAGS = flags.FLAGS


def without_machine_paths(value, folders: dict):
    """`value` (a results JSON or a part of it) with each folder written as its name in
    `folders` ({"/work/exp": "$EXP"})."""
    if isinstance(value, dict):
        return {k: without_machine_paths(v, folders) for k, v in value.items()}
    if isinstance(value, list):
        return [without_machine_paths(v, folders) for v in value]
    if isinstance(value, str):
        for folder, name in folders.items():
            value = value.replace(folder.rstrip("/"), name)
    return value


def collect(source: str, destination: str, root: str, gans: str = None) -> dict:
    with open(source) as f:
        results = json.load(f)
    check_results(results)  # refuses a JSON without run provenance
    # Omniglot's source is a file in the data folder, Mini-ImageNet's the folder itself.
    data = results["data_source"]
    data_folder = os.path.dirname(data) if os.path.splitext(data)[1] else data
    folders = {root: "$EXP", **({gans: "$GANS"} if gans else {}),
               **({data_folder: "$DATA"} if os.path.isabs(data_folder) else {})}
    results = without_machine_paths(results, folders)
    results["data_source"] = os.path.basename(results["data_source"])
    if os.path.isdir(destination):
        run_dir = os.path.basename(os.path.dirname(os.path.abspath(source)))
        destination = os.path.join(destination, run_dir + ".json")
    write_json_atomic(destination, results)
    return results


def main(argv):
    if len(argv) != 3:
        raise app.UsageError("Give the run's results.json and where to write it.")
    collect(argv[1], argv[2], os.path.abspath(FLAGS.root),
            FLAGS.gans and os.path.abspath(FLAGS.gans))


if __name__ == "__main__":
    run_main(main)
