"""Transformer translation (see TranslationApp for the commands: train, evaluate, translate, analyze,
export), decoding with per-layer key/value caches through the shared decoding package."""

import dataclasses

import keras

from keras_suite.apps.translation.base import TranslationApp
from keras_suite.apps.translation.config import DECODE_MARGIN, TRANSFORMER
from keras_suite.losses import MaskedSparseCrossentropy
from keras_suite.metrics import MaskedAccuracy
from keras_suite.models.transformer import IncrementalTransformer, attention_model, build_transformer
from keras_suite.training.schedules import TransformerSchedule


class TransformerApp(TranslationApp):
    spec = TRANSFORMER

    def build(self, cfg, vocab):
        settings = dataclasses.asdict(cfg.model)
        label_smoothing = settings.pop("label_smoothing")  # the loss's, not the network's
        model = build_transformer(vocab["source"].size, vocab["target"].size, **settings,
                                  max_source_length=cfg.data.max_source_length,
                                  max_target_length=cfg.data.max_target_length + DECODE_MARGIN)
        return model, MaskedSparseCrossentropy(label_smoothing), [MaskedAccuracy()]

    def optimizer(self, cfg):
        tc = cfg.train
        if tc.lr_schedule != "transformer":
            return None  # the trainer's cosine/constant schedules

        def make(steps_per_epoch):
            schedule = TransformerSchedule(cfg.model.dim, max(1, tc.warmup_epochs * steps_per_epoch))
            kwargs = {"clipnorm": tc.clipnorm} if tc.clipnorm else {}
            return keras.optimizers.Adam(schedule, beta_1=0.9, beta_2=0.98, epsilon=1e-9, **kwargs)

        return make

    def decoder(self, model, cfg, max_length):
        return IncrementalTransformer(model, max_length)

    @staticmethod
    def attention(model, source_ids, target_in):
        """Cross-attention weights per decoder layer and head."""
        per_layer = attention_model(model).predict_on_batch([source_ids, target_in])[1:]
        return {f"layer {i + 1} head {h + 1}": w[:, h] for i, w in enumerate(per_layer) for h in range(w.shape[1])}
