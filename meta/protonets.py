"""Prototypical networks (Snell et al., 2017) on the classifier's embedding.

A class's prototype is the mean embedding of its support images; a query image's logits
are the negative squared Euclidean distances to the prototypes. No inner loop: one task
costs two forward passes, so this is the meta-learner a CPU affords at real budgets. The
support and query sets are embedded as separate batches, so transductive batch norm
normalizes each by its own statistics, as MAML's evaluation does. The dense head is not
trained, and a task may have any number of ways (train on more than are tested).
"""
import tensorflow as tf

from meta.meta_learner import MetaLearner, accuracy, cross_entropy, flatten


def prototype_logits(support_embeddings, query_embeddings):
    """(N, K, D) support and (M, D) query embeddings -> (M, N) logits, -||q - c_n||^2."""
    prototypes = tf.reduce_mean(support_embeddings, axis=1)
    differences = query_embeddings[:, None, :] - prototypes[None, :, :]
    return -tf.reduce_sum(tf.square(differences), axis=-1)


class ProtoNets(MetaLearner):
    def __init__(self, model, optimizer, **options):
        super().__init__(model, optimizer, model.embedding_weights, **options)

    def logits(self, weights, support, query):
        """Query logits and labels of one task."""
        n, k = support.shape[0], tf.shape(support)[1]
        x, _ = flatten(support)
        support_embeddings = tf.reshape(self.model.embed(weights, x), [n, k, -1])
        qx, qy = flatten(query)
        return prototype_logits(support_embeddings, self.model.embed(weights, qx)), qy

    def task_loss(self, weights, support, query):
        logits, labels = self.logits(weights, support, query)
        return cross_entropy(logits, labels), accuracy(logits, labels)

    def _evaluate_task_fn(self, support, query, steps, learning_rate):
        del steps, learning_rate  # nothing is adapted
        return accuracy(*self.logits(self.trained, support, query))
