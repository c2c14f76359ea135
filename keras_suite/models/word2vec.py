"""Word embedding models: word2vec's skip-gram and CBOW with negative sampling (Mikolov et al., 2013,
https://arxiv.org/abs/1310.4546) and GloVe (Pennington et al., 2014, https://nlp.stanford.edu/pubs/glove.pdf).
Each keeps the vectors a user wants in the layer named "word_vectors" (`word_vectors(model)` reads them)."""

import keras
import numpy as np


def build_word2vec(vocab_size, dim, cbow=False, window=5, negatives=5):
    """Logits (B, 1 + negatives) of the candidates (the true word first, then the negatives).

    Skip-gram: the target word's vector, dotted with each candidate's context vector. CBOW: the mean of the
    vectors of the (0-padded) context words, dotted likewise. Word vectors start uniform in +-0.5 / dim and context
    vectors at zero, as in word2vec.c.
    """
    words = keras.layers.Embedding(vocab_size, dim, name="word_vectors", mask_zero=cbow,
                                   embeddings_initializer=keras.initializers.RandomUniform(-0.5 / dim, 0.5 / dim))
    contexts = keras.layers.Embedding(vocab_size, dim, name="context_vectors", embeddings_initializer="zeros")
    candidates = keras.Input((1 + negatives,), dtype="int32", name="candidates")
    if cbow:
        first = keras.Input((2 * window,), dtype="int32", name="context")
        query = keras.layers.GlobalAveragePooling1D(name="context_mean")(words(first))
    else:
        first = keras.Input((), dtype="int32", name="target")
        query = words(first)
    logits = keras.layers.Dot(axes=(1, 2), name="scores")([query, contexts(candidates)])
    return keras.Model({"context" if cbow else "target": first, "candidates": candidates}, logits,
                       name="cbow" if cbow else "skipgram")


def build_glove(vocab_size, dim):
    """w_i . w~_j + b_i + b~_j for word pairs (i, j), fitted to log X_ij (the loss weights come with the data)."""
    row, col = keras.Input((), dtype="int32", name="row"), keras.Input((), dtype="int32", name="col")
    init = keras.initializers.RandomUniform(-0.5 / dim, 0.5 / dim)
    w = keras.layers.Embedding(vocab_size, dim, name="word_vectors", embeddings_initializer=init)(row)
    w_tilde = keras.layers.Embedding(vocab_size, dim, name="context_vectors", embeddings_initializer=init)(col)
    b = keras.layers.Embedding(vocab_size, 1, name="word_biases", embeddings_initializer="zeros")(row)
    b_tilde = keras.layers.Embedding(vocab_size, 1, name="context_biases", embeddings_initializer="zeros")(col)
    dot = keras.layers.Dot(axes=1, name="dot")([w, w_tilde])
    return keras.Model({"row": row, "col": col}, keras.layers.Add(name="log_count")([dot, b, b_tilde]), name="glove")


def word_vectors(model):
    """The trained vectors (vocab_size, dim): word2vec's input vectors; for GloVe, W + W~ (the paper's choice)."""
    vectors = np.asarray(model.get_layer("word_vectors").embeddings)
    if model.name == "glove":
        vectors = vectors + np.asarray(model.get_layer("context_vectors").embeddings)
    return vectors
