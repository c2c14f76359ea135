"""Sequence-to-sequence translation with a recurrent encoder-decoder and attention (see TranslationApp
for the commands: train, evaluate, translate, analyze, export)."""

import keras

from keras_suite.apps.base import APPS
from keras_suite.apps.seq2seq.config import Seq2SeqConfig
from keras_suite.apps.translation.app import TranslationApp
from keras_suite.errors import UserError
from keras_suite.layers.cross_attention import SCORES
from keras_suite.metrics import MaskedAccuracy
from keras_suite.models.seq2seq import CELLS, IncrementalSeq2Seq, attention_model, build_seq2seq


@APPS.register("seq2seq")
class Seq2SeqApp(TranslationApp):
    name = "seq2seq"
    description = "encoder-decoder with attention (beam search, BLEU, error analysis; dates -> ISO by default)"
    config_cls = Seq2SeqConfig

    def check_model(self, cfg):
        m = cfg.model
        for key, value, allowed in (("model.cell", m.cell, CELLS), ("model.attention", m.attention, SCORES)):
            if value not in allowed:
                raise UserError(f"{key} must be one of {', '.join(allowed)}, got '{value}'")
        for key, value in (("model.units", m.units), ("model.embedding_dim", m.embedding_dim)):
            if value < 1:
                raise UserError(f"{key} must be positive, got {value}")

    def build(self, cfg, vocab):
        m = cfg.model
        model = build_seq2seq(vocab["source"].size, vocab["target"].size, m.embedding_dim, m.units, m.cell,
                              m.attention, m.dropout)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
        return model, loss, [MaskedAccuracy()]

    def decoder(self, model, cfg, vocab, max_length):
        return IncrementalSeq2Seq(model)

    @staticmethod
    def attention(model, source_ids, target_in):
        return attention_model(model).predict_on_batch([source_ids, target_in])[1]
