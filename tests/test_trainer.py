import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np
import pytest
import tensorflow as tf

import util
from infra import file_lock
from meta.config import config_from_args
from meta.results import check_results
from meta.trainer import Trainer, run
from util import config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def weights(trainer):
    return [w.numpy() for w in trainer.model.trainable_weights]


def test_resumed_run_equals_uninterrupted_run(tmp_path):
    db = util.database()
    # One inner step: resuming does not depend on their number, and tracing is cheaper.
    short = ("--checkpoint_every=3", "--val_every=3", "--inner_steps=1")
    straight = Trainer(config(tmp_path, "--iterations=6", *short, name="straight"), db)
    straight.train()
    first = Trainer(config(tmp_path, "--iterations=3", *short, name="resumed"), db)
    first.train()
    assert not all(np.array_equal(a, b) for a, b in zip(weights(first), weights(straight)))
    resumed = Trainer(config(tmp_path, "--iterations=6", *short, name="resumed"), db)
    history = resumed.train()
    assert int(resumed.step.numpy()) == 6
    assert int(resumed.optimizer.iterations.numpy()) == 6
    for a, b in zip(weights(resumed), weights(straight)):
        np.testing.assert_array_equal(a, b)
    assert [h["step"] for h in history] == [3, 6]


def test_meta_learning_rate_halves_on_schedule_and_resumes_exactly(tmp_path):
    db = util.database()
    short = ("--learner=protonets", "--meta_lr=0.004", "--meta_lr_halving=2",
             "--checkpoint_every=3", "--val_every=3")
    straight = Trainer(config(tmp_path, "--iterations=5", *short, name="straight"), db)
    straight.train()
    Trainer(config(tmp_path, "--iterations=3", *short, name="resumed"), db).train()
    resumed = Trainer(config(tmp_path, "--iterations=5", *short, name="resumed"), db)
    resumed.train()
    # The 5th update saw 4 before it: two halvings.
    assert float(resumed.optimizer.learning_rate.numpy()) == pytest.approx(0.001)
    for a, b in zip(weights(resumed), weights(straight)):
        np.testing.assert_array_equal(a, b)


def test_run_writes_results_with_provenance(tmp_path):
    results = run(config(tmp_path, "--iterations=4", "--val_every=2"), util.database())
    with open(tmp_path / "run" / "results.json") as f:
        written = json.load(f)
    assert written == json.loads(json.dumps(results))
    check_results(written)
    assert 0.0 <= written["test_accuracy"] <= 1.0 and written["num_test_tasks"] == 5
    # One accuracy per test task, and what fixes those tasks, for paired comparisons.
    assert len(written["test_task_accuracies"]) == 5
    assert np.mean(written["test_task_accuracies"]) == pytest.approx(written["test_accuracy"])
    assert written["test_tasks"]["seed"] == 0 and written["test_tasks"]["count"] == 5
    assert written["config"]["iterations"] == 4 and written["iterations"] == 4
    assert written["checkpoint"].endswith("best/ckpt-" + str(
        max(written["val_history"], key=lambda h: h["val_accuracy"])["step"]))
    assert not [f for f in os.listdir(tmp_path / "run") if f.startswith(".tmp")]
    [events] = os.listdir(tmp_path / "run" / "tb" / "hparams")  # the HParams dashboard's record
    plugins = {v.metadata.plugin_data.plugin_name for e in tf.compat.v1.train.summary_iterator(
        str(tmp_path / "run" / "tb" / "hparams" / events)) for v in e.summary.value}
    assert "hparams" in plugins


def test_easy_tasks_are_learned(tmp_path):
    results = run(config(tmp_path, "--iterations=30", "--val_every=15", "--test_inner_steps=5"),
                  util.database())
    assert results["test_accuracy"] > 0.9  # chance is 0.2


def test_evaluation_tasks_are_fixed_and_independent_of_training(tmp_path):
    db = util.database()
    trainer = Trainer(config(tmp_path, "--iterations=2"), db)
    before = [s.numpy() for s, _ in trainer.eval_tasks("test")]
    trainer.train()
    after = [s.numpy() for s, _ in trainer.eval_tasks("test")]
    other = Trainer(config(tmp_path, "--meta_lr=0.01", "--inner_steps=2", name="other"), db)
    others = [s.numpy() for s, _ in other.eval_tasks("test")]
    assert all(np.array_equal(a, b) and np.array_equal(a, c)
               for a, b, c in zip(before, after, others))
    val = [s.numpy() for s, _ in trainer.eval_tasks("val")]
    assert not np.array_equal(val[0], before[0])


def test_budget_that_leaves_too_few_classes_fails_at_start(tmp_path):
    with pytest.raises(ValueError, match="--label_fraction"):
        Trainer(config(tmp_path, "--label_fraction=0.2"), util.database(train=(20, 10)))
    # `instances`: 30% of 10 images per class is 3 < K + query = 6.
    with pytest.raises(ValueError, match="leaves 0 classes"):
        Trainer(config(tmp_path, "--label_scheme=instances", "--label_fraction=0.3"),
                util.database())


def test_contradicting_flags_are_refused(tmp_path):
    with pytest.raises(ValueError, match="--n_way"):
        config(tmp_path, "--n_way=1")
    with pytest.raises(ValueError, match="--generated_weight"):
        config(tmp_path, "--method=ssml", "--label_fraction=0.5", "--mix=schedule",
               "--generated_weight=0.5")


def test_output_dir_of_another_run_is_refused(tmp_path):
    Trainer(config(tmp_path, "--iterations=1"), util.database()).train()
    with pytest.raises(ValueError, match="inner_lr"):
        Trainer(config(tmp_path, "--iterations=2", "--inner_lr=0.1"), util.database()).train()
    # Settings this run never reads (it has no generated tasks) do not stop its resume.
    resumed = Trainer(config(tmp_path, "--iterations=2", "--gan_dir=elsewhere", "--lasium=oc"),
                      util.database())
    resumed.train()
    assert int(resumed.step.numpy()) == 2


def test_default_output_dirs_tell_the_main_job_from_its_common_overrides():
    main_job = ("--method=ssml", "--label_fraction=0.01", "--mix=batch", "--meta_batch=8",
                "--generated_weight=0.25", "--query_augmentation", "--labeled_query_augmentation")
    variants = [main_job, main_job + ("--meta_batch=4",), main_job + ("--noquery_augmentation",),
                main_job + ("--nolabeled_query_augmentation",),
                main_job + ("--noquery_augmentation", "--nolabeled_query_augmentation")]
    dirs = [config_from_args(*args).output_dir for args in variants]
    assert len(set(dirs)) == len(dirs), dirs
    assert dirs[0].endswith("_mb8_allshifts_5w1s_classes0.01_seed0")


def test_mirrored_strategy_on_two_cpus_matches_one_device(tmp_path):
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {os.path.join(REPO, 'tests')!r})
        import numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import util
        from meta.config import config_from_args
        from meta.maml import MAML, InnerLoop
        from meta.builders import make_strategy
        from meta.trainer import Trainer
        from models.classifier import OMNIGLOT, ConvNet
        from tasks.labeled import TaskSampler, TaskShape, meta_batches, task_stream
        db = util.database()
        try:
            Trainer(config_from_args("--meta_batch=3", "--distribute=mirrored"), db)
            raise AssertionError("a meta-batch that does not split across replicas was accepted")
        except ValueError as e:
            assert "multiple of" in str(e)
        sampler = TaskSampler(db.train.images, db.train.labels, TaskShape(5, 1, 5), "train")
        batches = meta_batches(task_stream(sampler, seed=0), 4)
        result = {{}}
        for mode in ("default", "mirrored"):
            strategy = make_strategy(mode)
            assert strategy.num_replicas_in_sync == (2 if mode == "mirrored" else 1)
            with strategy.scope():
                model = ConvNet(OMNIGLOT, 5, seed=1)
                # Unequal weights: each replica must weigh its own slice of the tasks.
                maml = MAML(model, tf.keras.optimizers.SGD(0.1), InnerLoop(1, 0.4),
                            strategy=strategy, task_weights=(1.0, 1.0, 0.5, 0.1))
            data = iter(strategy.experimental_distribute_dataset(batches))
            for _ in range(2):
                maml.train_step(*next(data))
            result[mode] = [w.numpy() for w in model.trainable_weights]
        for a, b in zip(result["default"], result["mirrored"]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
        # The trainer runs under the mirrored strategy end to end.
        c = config_from_args("--meta_batch=2", "--iterations=2", "--val_every=2",
                             "--num_val_tasks=2", "--distribute=mirrored", "--inner_steps=1",
                             "--val_inner_steps=1",
                             "--output_dir=" + sys.argv[1])
        assert Trainer(c, db).train()[-1]["step"] == 2
        print("MATCH")
    """)
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert "MATCH" in out.stdout, out.stderr[-3000:]


def free_loopback_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_on_loopback_match_one_worker(tmp_path):
    """--distribute=multi_worker: two processes, each with its half of every meta-batch,
    train as one process does with the whole meta-batch; the chief alone writes the run
    folder, and the other worker leaves nothing behind."""
    args = ("--iterations=4", "--val_every=2", "--checkpoint_every=2", "--inner_steps=1")
    script = textwrap.dedent(f"""
        import pathlib, sys
        sys.path.insert(0, {os.path.join(REPO, 'tests')!r})
        import util
        from meta.trainer import run
        run(util.config(pathlib.Path(sys.argv[1]), "--distribute=multi_worker", *{args!r},
                        name="two"), util.database())
    """)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_loopback_ports(2)]}
    workers, deadline = [], time.monotonic() + 300
    for index in range(2):
        log = open(tmp_path / f"worker{index}.log", "w")
        workers.append(subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)], cwd=REPO, stdout=log, stderr=log,
            env=dict(os.environ, TF_CONFIG=json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}))))
    try:
        for worker in workers:
            worker.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        for worker in workers:
            worker.kill()  # after a timeout; a no-op on a process that ended
    logs = [(tmp_path / f"worker{i}.log").read_text()[-3000:] for i in range(2)]
    assert [w.returncode for w in workers] == [0, 0], logs
    run(config(tmp_path, *args, name="one"), util.database())
    one, two = (tf.train.load_checkpoint(str(tmp_path / name / "ckpt" / "ckpt-4"))
                for name in ("one", "two"))
    for variable in one.get_variable_to_shape_map():
        if variable.startswith(("model/", "optimizer/")):
            np.testing.assert_allclose(one.get_tensor(variable), two.get_tensor(variable),
                                       rtol=1e-4, atol=1e-5)
    one, two = (json.loads((tmp_path / name / "results.json").read_text())
                for name in ("one", "two"))
    assert one["test_task_accuracies"] == two["test_task_accuracies"]

    def files(name):
        return sorted(os.path.relpath(os.path.join(folder, f), tmp_path / name).split(".")[0]
                      for folder, _, names in os.walk(tmp_path / name) for f in names)
    assert files("two") == files("one")  # one writer: one event file per TensorBoard folder
    assert not [f for f in os.listdir(tempfile.gettempdir()) if f.startswith(
        tuple(f"ssml-worker{w.pid}-" for w in workers))]


def test_a_run_folder_in_use_is_refused_at_once(tmp_path):
    c = config(tmp_path, "--iterations=1")
    with file_lock.exclusive(os.path.join(c.output_dir, ".lock")):
        with pytest.raises(ValueError, match="Another process is training in"):
            run(c, util.database())
    assert not os.path.exists(os.path.join(c.output_dir, "config.json"))


REAL_DATA = os.path.join(REPO, "..", "shared", "data")


@pytest.mark.skipif(not os.path.exists(os.path.join(REAL_DATA, "omniglot.npz")),
                    reason="no real Omniglot in ../shared/data")
def test_real_omniglot_smoke(tmp_path):
    results = run(config(tmp_path, "--iterations=40", "--val_every=20", "--num_val_tasks=10",
                         "--num_test_tasks=20", "--test_inner_steps=10", "--meta_batch=4",
                         f"--data_dir={REAL_DATA}"))
    assert results["data_source"].endswith("omniglot.npz")
    assert results["labeled_classes"] == 1200
    assert results["test_accuracy"] > 0.35  # chance is 0.2


@pytest.mark.parametrize("method, fraction, share, expect", [
    ("ssml", "0.5", "0.5", {"labeled", "generated"}), ("ssml", "0", "0.5", {"generated"}),
    ("ssml", "0.5", "1", {"labeled"}), ("labeled_only", "0.5", "0.5", {"labeled"})])
def test_each_method_gets_the_streams_it_should(tmp_path, fake_gan, method, fraction, share,
                                                expect):
    c = config(tmp_path, f"--method={method}", f"--label_fraction={fraction}", "--mix=batch",
               f"--labeled_share={share}")
    trainer = Trainer(c, util.database())
    built = {"labeled": trainer.train_sampler, "generated": trainer.generated}
    assert {name for name, stream in built.items() if stream is not None} == expect
    support, query = next(iter(trainer._train_batches(0)))
    assert support.shape == (2, 5, 1, 28, 28, 1) and query.shape == (2, 5, 5, 28, 28, 1)


def test_labeled_query_shifts_touch_only_training_queries_and_resume_exactly(tmp_path):
    db = util.database()
    plain = Trainer(config(tmp_path, name="plain"), db)
    shifted = Trainer(config(tmp_path, "--labeled_query_augmentation", name="shifted"), db)
    (s1, q1), (s2, q2) = (next(iter(t._train_batches(0))) for t in (plain, shifted))
    np.testing.assert_array_equal(s1, s2)
    assert not np.allclose(q1, q2)
    # Meta-batch 3 is the same whether the stream starts at 0 or resumes at 3.
    from_start = list(shifted._train_batches(0).take(4))[3]
    resumed = next(iter(shifted._train_batches(3)))
    for a, b in zip(from_start, resumed):
        np.testing.assert_array_equal(a, b)
    for split in ("val", "test"):
        for ours, theirs in zip(plain.eval_tasks(split), shifted.eval_tasks(split)):
            for a, b in zip(ours, theirs):
                np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="--labeled_query_augmentation"):
        config(tmp_path, "--method=lasium", "--label_fraction=0", "--labeled_query_augmentation")


def test_mini_imagenet_end_to_end_at_84x84(tmp_path):
    """SS-GAN (the plain GAN with hooks; its step at 84x84: test_gan.py), generated and
    labeled tasks, MAML and test, all at 84x84x3."""
    results = run(config(tmp_path, "--dataset=mini_imagenet", "--method=ssml_ssg",
                         "--label_fraction=0.5", "--iterations=2", "--val_every=2",
                         "--inner_steps=1", "--gan_epochs=1", "--gan_batch_size=50",
                         f"--gan_dir={tmp_path / 'gans'}"),
                  util.database(train=(10, 10), shape=(84, 84, 3)))
    assert results["iterations"] == 2 and 0 <= results["test_accuracy"] <= 1
    assert results["peak_memory_mb"] > 0


@pytest.mark.skipif(not os.path.exists(os.path.join(REAL_DATA, "mini_imagenet_test.npz")),
                    reason="no real Mini-ImageNet in ../shared/data")
def test_real_mini_imagenet_smoke(tmp_path):
    results = run(config(tmp_path, "--dataset=mini_imagenet", "--iterations=3", "--val_every=3",
                         "--inner_steps=1", f"--data_dir={REAL_DATA}"))
    assert os.path.samefile(results["data_source"], REAL_DATA)
    assert results["labeled_classes"] == 64


def test_ssml_ssg_uses_labels_that_form_no_task(tmp_path):
    """Half the instances of 10-image classes: 5 labeled per class, too few for K + query =
    6, so no labeled task; with --labeled_share=0 the SS-GAN still learns every class."""
    c = config(tmp_path, "--method=ssml_ssg", "--label_scheme=instances", "--label_fraction=0.5",
               "--labeled_share=0", "--gan_epochs=1", "--gan_batch_size=50",
               f"--gan_dir={tmp_path / 'gans'}")
    trainer = Trainer(c, util.database(train=(20, 10)))
    assert trainer.labeled.num_classes == 0 and trainer.train_sampler is None
    assert trainer.generated.num_classes == 20
    support, _ = next(iter(trainer._train_batches(0)))
    assert support.shape == (2, 5, 1, 28, 28, 1)


@pytest.mark.parametrize("preset", [None, "0", "1"])
def test_gan_programs_restart_with_onednn_unless_the_user_chose(tmp_path, preset):
    restarted = preset is None and not tf.config.list_physical_devices("GPU")
    (tmp_path / "show_onednn.py").write_text(
        "import os\nprint('restarted with', os.environ['TF_ENABLE_ONEDNN_OPTS'])\n")
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    env["PYTHONPATH"] = str(tmp_path)
    if preset:
        env["TF_ENABLE_ONEDNN_OPTS"] = preset
    script = ("from meta.process import restart_with_onednn\n"
              "restart_with_onednn('show_onednn')\nprint('went on')\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)
    expected = "restarted with 1" if restarted else "went on"
    assert out.stdout.strip() == expected, out.stderr[-2000:]
