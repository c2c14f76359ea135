import keras

from keras_suite.losses.triplet import triplet_statistics

STATISTICS = ("active_triplets", "positive_distance", "negative_distance")


@keras.saving.register_keras_serializable(package="keras_suite")
class TripletStatistic(keras.metrics.Mean):
    """Running mean of one batch statistic of triplet training, for TensorBoard: the share of valid
    triplets with positive loss (`active_triplets`; it falls as the embedding learns) or the mean
    squared distance of positive / negative pairs (Hermans et al., 2017, https://arxiv.org/abs/1703.07737).

    Example:
    >>> model.compile(loss=TripletLoss(), metrics=[TripletStatistic(s) for s in STATISTICS])
    """

    def __init__(self, statistic="active_triplets", margin=0.2, name=None, **kwargs):
        if statistic not in STATISTICS:
            raise ValueError(f"statistic must be one of {', '.join(STATISTICS)}, got '{statistic}'")
        super().__init__(name=name or statistic, **kwargs)
        self.statistic = statistic
        self.margin = margin

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(triplet_statistics(y_true, y_pred, self.margin)[self.statistic])

    def get_config(self):
        return {**super().get_config(), "statistic": self.statistic, "margin": self.margin}
