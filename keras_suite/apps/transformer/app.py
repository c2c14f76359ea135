"""Transformer translation (see TranslationApp for the commands: train, evaluate, translate, analyze,
export), decoding with per-layer key/value caches through the shared decoding package."""

import keras

from keras_suite.apps.base import APPS
from keras_suite.apps.transformer.config import TransformerConfig
from keras_suite.apps.translation.app import TranslationApp
from keras_suite.errors import UserError
from keras_suite.layers.token_and_position_embedding import POSITIONAL
from keras_suite.losses import MaskedSparseCrossentropy
from keras_suite.metrics import MaskedAccuracy
from keras_suite.models.transformer import IncrementalTransformer, attention_model, build_transformer
from keras_suite.schedules import TransformerSchedule


@APPS.register("transformer")
class TransformerApp(TranslationApp):
    name = "transformer"
    description = "encoder-decoder transformer (cached beam search, BLEU; dates -> ISO by default)"
    config_cls = TransformerConfig

    def check_model(self, cfg):
        m = cfg.model
        if m.positional not in POSITIONAL:
            raise UserError(f"model.positional must be one of {', '.join(POSITIONAL)}, got '{m.positional}'")
        for key, value in (("model.layers", m.layers), ("model.dim", m.dim), ("model.heads", m.heads),
                           ("model.ff_dim", m.ff_dim)):
            if value < 1:
                raise UserError(f"{key} must be positive, got {value}")
        if m.dim % m.heads:
            raise UserError(f"model.dim ({m.dim}) must divide into model.heads ({m.heads})")
        if not 0 <= m.label_smoothing < 1:
            raise UserError(f"model.label_smoothing must be in [0, 1), got {m.label_smoothing}")

    def build(self, cfg, vocab):
        m, d = cfg.model, cfg.data
        model = build_transformer(vocab["source"].size, vocab["target"].size, m.layers, m.dim, m.heads, m.ff_dim,
                                  m.dropout, d.max_source_length, d.max_target_length + 8, m.positional,
                                  m.norm_first)
        return model, MaskedSparseCrossentropy(m.label_smoothing), [MaskedAccuracy()]

    def optimizer(self, cfg):
        tc = cfg.train
        if tc.lr_schedule != "transformer":
            return None  # the trainer's cosine/constant schedules

        def make(steps_per_epoch):
            schedule = TransformerSchedule(cfg.model.dim, max(1, tc.warmup_epochs * steps_per_epoch))
            kwargs = {"clipnorm": tc.clipnorm} if tc.clipnorm else {}
            return keras.optimizers.Adam(schedule, beta_1=0.9, beta_2=0.98, epsilon=1e-9, **kwargs)

        return make

    def decoder(self, model, cfg, vocab, max_length):
        return IncrementalTransformer(model, max_length)

    @staticmethod
    def attention(model, source_ids, target_in):
        """Cross-attention weights per decoder layer and head."""
        per_layer = attention_model(model).predict_on_batch([source_ids, target_in])[1:]
        return {f"layer {i + 1} head {h + 1}": w[:, h] for i, w in enumerate(per_layer) for h in range(w.shape[1])}
