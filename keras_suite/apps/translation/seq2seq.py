"""Sequence-to-sequence translation with a recurrent encoder-decoder and attention (see TranslationApp
for the commands: train, evaluate, translate, analyze, export)."""

import dataclasses

import keras

from keras_suite.apps.translation.base import TranslationApp
from keras_suite.apps.translation.config import SEQ2SEQ
from keras_suite.data.tokenizer import PAD_ID
from keras_suite.metrics import MaskedAccuracy
from keras_suite.models.seq2seq import IncrementalSeq2Seq, attention_model, build_seq2seq


class Seq2SeqApp(TranslationApp):
    spec = SEQ2SEQ

    def build(self, cfg, vocab):
        model = build_seq2seq(vocab["source"].size, vocab["target"].size, **dataclasses.asdict(cfg.model))
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD_ID)
        return model, loss, [MaskedAccuracy()]

    def decoder(self, model, cfg, max_length):
        return IncrementalSeq2Seq(model)

    @staticmethod
    def attention(model, source_ids, target_in):
        return attention_model(model).predict_on_batch([source_ids, target_in])[1]
