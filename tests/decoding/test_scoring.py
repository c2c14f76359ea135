import numpy as np
import tensorflow as tf

from keras_suite.data.tokenizer import END_ID, START_ID
from keras_suite.decoding import BeamSearch, Greedy, classify_errors, decode, sequence_log_prob
from keras_suite.models.seq2seq import IncrementalSeq2Seq, build_seq2seq

SOURCE = np.array([[5, 6, 7, 8, 0, 0], [4, 9, 0, 0, 0, 0]], np.int32)


def test_sequence_log_prob_matches_the_full_model():
    model = build_seq2seq(12, 14, embedding_dim=8, units=16)
    targets = np.array([[5, 6, END_ID, 0], [9, END_ID, 0, 0]], np.int32)
    target_in = np.concatenate([np.full((2, 1), START_ID), targets[:, :-1]], 1)
    log_probs = tf.nn.log_softmax(model([SOURCE, target_in])).numpy()
    expected = [sum(log_probs[row, t, targets[row, t]] for t in range(n)) for row, n in ((0, 3), (1, 2))]
    decoder = IncrementalSeq2Seq(model)
    total, length = sequence_log_prob(decoder.step, [START_ID] * 2, decoder.encode(SOURCE), targets, END_ID)
    np.testing.assert_allclose(total.numpy(), expected, rtol=1e-5)
    assert length.numpy().tolist() == [3, 2]


# Error analysis on a constructed model (bigram table; end token 1). From start 0 the model likes
# token 2 (0.55) but 2 leads nowhere good; 3 (0.45) ends with certainty: P(2, x, end) <= 0.55 * 0.3
# < P(3, end) = 0.45 * 0.98. Greedy search takes 2 (search error); a beam of 2 finds "3 end".
TABLE = np.log(np.array([
    [0.0001, 0.0001, 0.5498, 0.45],
    [0.01, 0.97, 0.01, 0.01],
    [0.3, 0.3, 0.1, 0.3],
    [0.005, 0.98, 0.01, 0.005],
], np.float32))


def bigram(tokens, state):
    return tf.gather(TABLE, tokens), state


def test_error_analysis_blames_search_or_model():
    start, state = tf.constant([0, 0]), tf.zeros([2])
    references = tf.constant([[3, 1, 1], [2, 2, 1]])  # the model's favourite, and a sequence it dislikes
    for width, verdicts in ((1, ["search", "model"]), (2, ["correct", "model"])):
        strategy = BeamSearch(width, alpha=0.0)
        outputs, _ = decode(bigram, start, state, 3, strategy, end_token=1)
        outputs = outputs[:, 0]
        ref_lp, _ = sequence_log_prob(bigram, start, state, references, 1)
        out_lp, _ = sequence_log_prob(bigram, start, state, outputs, 1)
        correct = [list(o) == list(r) for o, r in zip(outputs.numpy(), references.numpy())]
        result = classify_errors(ref_lp.numpy(), out_lp.numpy(), correct)
        assert result["labels"] == verdicts
    greedy, _ = decode(bigram, start, state, 3, Greedy(), end_token=1)
    assert greedy.numpy()[0, 0] == 2

