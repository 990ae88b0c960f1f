from meta.results import command_line, reproduce_command


def test_commands_are_quoted_for_the_shell(monkeypatch):
    assert reproduce_command("run_scripts.train", ["--seed=1", "--output_dir=a b"]) == \
        "python -m run_scripts.train --seed=1 '--output_dir=a b'"
    monkeypatch.delenv("SSML_RUN_COMMAND", raising=False)
    monkeypatch.setattr("sys.argv", ["/repo/run_scripts/label_budgets.py", "--readme=R.md", "--x=$y"])
    assert command_line() == "python -m run_scripts.label_budgets --readme=R.md '--x=$y'"
    assert command_line(["--seed=0"]) == "python -m run_scripts.label_budgets --seed=0"
    monkeypatch.setenv("SSML_RUN_COMMAND", "bash run_scripts/omniglot_ssml.sh --seed=2")
    assert command_line() == "bash run_scripts/omniglot_ssml.sh --seed=2"
