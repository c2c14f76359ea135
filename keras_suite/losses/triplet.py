import keras
from keras import ops

from keras_suite.choices import TRIPLET_MINING as MINING


def pairwise_squared_distances(embeddings):
    """||e_i - e_j||^2 for every pair of rows, (B, B), clipped at 0 against rounding."""
    squared = ops.sum(ops.square(embeddings), axis=-1)
    distances = squared[:, None] - 2.0 * ops.matmul(embeddings, ops.transpose(embeddings)) + squared[None, :]
    return ops.maximum(distances, 0.0)


def triplet_masks(labels):
    """(positive pairs (a != p, same label), negative pairs (different label)), (B, B) booleans."""
    labels = ops.reshape(labels, (-1,))
    same = ops.equal(labels[:, None], labels[None, :])
    not_self = ops.logical_not(ops.eye(ops.shape(labels)[0], dtype="bool"))
    return ops.logical_and(same, not_self), ops.logical_not(same)


def triplet_statistics(labels, embeddings, margin):
    """Batch-all view of a batch: the share of valid triplets with positive loss, and the mean squared
    distance of positive and of negative pairs (the numbers to watch while training)."""
    d = pairwise_squared_distances(ops.cast(embeddings, "float32"))
    positive, negative = triplet_masks(labels)
    valid = ops.logical_and(positive[:, :, None], negative[:, None, :])
    losses = d[:, :, None] - d[:, None, :] + margin
    active = ops.sum(ops.cast(ops.logical_and(valid, losses > 1e-16), "float32"))
    count = ops.maximum(ops.sum(ops.cast(valid, "float32")), 1.0)

    def mean_where(mask):
        mask = ops.cast(mask, "float32")
        return ops.sum(d * mask) / ops.maximum(ops.sum(mask), 1.0)

    return {"active_triplets": active / count, "positive_distance": mean_where(positive),
            "negative_distance": mean_where(negative)}


@keras.saving.register_keras_serializable(package="keras_suite")
class TripletLoss(keras.losses.Loss):
    """Triplet loss `max(||f(a)-f(p)||^2 - ||f(a)-f(n)||^2 + margin, 0)` with online mining in the batch.

    Schroff et al., 2015, "FaceNet: A Unified Embedding for Face Recognition and Clustering",
    https://arxiv.org/abs/1503.03832 (semi-hard); Hermans et al., 2017, "In Defense of the Triplet
    Loss for Person Re-Identification", https://arxiv.org/abs/1703.07737 (batch-all, batch-hard).
    `y_true` are identity labels (B,), `y_pred` the embeddings (B, D).

    Args:
        margin: alpha.
        mining: "batch_all" (mean over the triplets with positive loss), "batch_hard" (per anchor the
            farthest positive and the closest negative) or "semi_hard" (per anchor-positive pair the
            closest negative farther than the positive; the farthest negative when none is).

    Example:
    >>> TripletLoss(0.2, "semi_hard")(labels, embeddings)
    """

    def __init__(self, margin=0.2, mining="semi_hard", name="triplet_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        if mining not in MINING:
            raise ValueError(f"mining must be one of {', '.join(MINING)}, got '{mining}'")
        self.margin = margin
        self.mining = mining

    def call(self, y_true, y_pred):
        d = pairwise_squared_distances(ops.cast(y_pred, "float32"))
        positive, negative = triplet_masks(y_true)
        big = ops.max(d) + 1.0
        if self.mining == "batch_hard":
            hardest_positive = ops.max(ops.where(positive, d, 0.0), axis=1)
            hardest_negative = ops.min(ops.where(negative, d, big), axis=1)
            has_both = ops.logical_and(ops.any(positive, axis=1), ops.any(negative, axis=1))
            losses = ops.maximum(hardest_positive - hardest_negative + self.margin, 0.0)
            return self._mean(losses, has_both)
        if self.mining == "batch_all":
            valid = ops.logical_and(positive[:, :, None], negative[:, None, :])
            losses = ops.maximum(d[:, :, None] - d[:, None, :] + self.margin, 0.0)
            return self._mean(losses, ops.logical_and(valid, losses > 1e-16))
        # semi_hard: for each anchor-positive pair (a, p), negatives n with d(a, n) > d(a, p).
        d_ap = d[:, :, None]
        d_an = d[:, None, :]
        outside = ops.logical_and(negative[:, None, :], d_an > d_ap)
        closest_outside = ops.min(ops.where(outside, d_an, big), axis=2)
        farthest = ops.max(ops.where(negative, d, -1.0), axis=1)[:, None]
        chosen = ops.where(ops.any(outside, axis=2), closest_outside, farthest)
        losses = ops.maximum(d - chosen + self.margin, 0.0)
        return self._mean(losses, ops.logical_and(positive, ops.any(negative, axis=1)[:, None]))

    @staticmethod
    def _mean(losses, mask):
        mask = ops.cast(mask, "float32")
        # One value per batch: the default reduction averages the (1,) tensor to itself.
        return ops.reshape(ops.sum(losses * mask) / ops.maximum(ops.sum(mask), 1.0), (1,))

    def get_config(self):
        return {**super().get_config(), "margin": self.margin, "mining": self.mining}
