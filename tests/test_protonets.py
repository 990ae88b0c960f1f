import numpy as np
import pytest
import tensorflow as tf

import util
from meta.config import config_from_args
from meta.protonets import ProtoNets, prototype_logits
from meta.trainer import Trainer, run
from models.classifier import ConvNet, ConvNetConfig
from util import TINY, config, tiny_task


def test_logits_are_negative_squared_distances_to_class_means():
    # Two classes, two support embeddings each, in 2-D: prototypes (1, 0) and (0, 2).
    support = tf.constant([[[0.0, 0.0], [2.0, 0.0]], [[0.0, 1.0], [0.0, 3.0]]])
    query = tf.constant([[1.0, 1.0], [3.0, 2.0]])
    # (1, 1): 0 + 1 = 1 to class 0, 1 + 1 = 2 to class 1; (3, 2): 4 + 4 = 8, 9 + 0 = 9.
    np.testing.assert_allclose(prototype_logits(support, query), [[-1.0, -2.0], [-8.0, -9.0]])


def test_a_task_whose_queries_are_its_support_images_is_solved_exactly():
    # 16 features: with TINY's 3, two images can share an embedding (ReLU zeros), a tie.
    model = ConvNet(ConvNetConfig(filters=16, strided=True, image_shape=(8, 8, 1)), 3, seed=0)
    learner = ProtoNets(model, tf.keras.optimizers.Adam(1e-3))
    support, _ = tiny_task(n=5, k=1)
    # Same images in the same order: batch norm sees the same batch, so each query embeds
    # onto its own class's prototype, at distance 0.
    assert learner._evaluate_task(support, support, 0, 0.0) == 1.0


def test_only_the_embedding_is_trained_and_zero_weighted_tasks_do_not_count():
    a, b, c = (tiny_task(seed=s) for s in range(3))

    def step(tasks, weights):
        model = ConvNet(TINY, 3, seed=1)
        optimizer = tf.keras.optimizers.SGD(0.5)
        learner = ProtoNets(model, optimizer, task_weights=weights)
        learner.train_step(*(tf.stack(x) for x in zip(*tasks)))
        return model

    first, second = step([a, b], [1.0, 0.0]), step([a, c], [1.0, 0.0])
    untouched = ConvNet(TINY, 3, seed=1)
    for w1, w2, w0 in zip(first.trainable_weights, second.trainable_weights,
                          untouched.trainable_weights):
        np.testing.assert_array_equal(w1, w2)  # the second task weighs nothing
    # The embedding moved, the unused head did not.
    assert not np.array_equal(first.trainable_weights[0], untouched.trainable_weights[0])
    for w1, w0 in zip(first.trainable_weights[-2:], untouched.trainable_weights[-2:]):
        np.testing.assert_array_equal(w1, w0)


def test_ssml_stream_trains_protonets_on_more_ways_end_to_end(tmp_path, fake_gan):
    c = config(tmp_path, "--learner=protonets", "--method=ssml", "--label_fraction=0.5",
               "--generated_weight=0.5", "--train_n_way=8", "--iterations=4", "--val_every=2")
    assert c.output_dir.endswith("run")
    trainer = Trainer(c, util.database())
    support, query = next(iter(trainer._train_batches(0)))
    assert support.shape[:3] == (2, 8, 1)  # 8-way training tasks, tested 5-way
    results = run(c, util.database())
    assert results["config"]["learner"] == "protonets" and 0 <= results["test_accuracy"] <= 1
    # A run folder is one learner's: resuming it with MAML is refused.
    with pytest.raises(ValueError, match="learner"):
        Trainer(config(tmp_path, "--method=ssml", "--label_fraction=0.5",
                       "--generated_weight=0.5", "--train_n_way=5", "--iterations=6"),
                util.database()).train()


def test_maml_cannot_train_on_other_ways_than_it_tests():
    with pytest.raises(ValueError, match="--train_n_way=10 differs"):
        config_from_args("--train_n_way=10")
    assert config_from_args("--learner=protonets", "--train_n_way=20").output_dir.endswith(
        "_protonets_train20w_5w1s_classes1_seed0")
