"""Beam search on the host over a step model (`encode` once, then `decode_step` per token), in NumPy.

This is the reference a phone app ports when its runtime (a GPU delegate, an NPU) cannot run the search loop
inside the model: it ranks, freezes finished hypotheses and breaks ties exactly as the in-graph `BeamSearch`
does, so both give the same n-best. Wu et al., 2016, https://arxiv.org/abs/1609.08144 (length normalization).
"""

import numpy as np

NEG = -1e9


def log_softmax(logits):
    """log softmax over the last axis, in float32."""
    x = np.asarray(logits, np.float32)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def normalize(log_prob, length, alpha):
    """`log_prob / max(length, 1) ** alpha`, the score hypotheses are ranked by."""
    return (log_prob / np.power(np.maximum(length, 1).astype(np.float32), np.float32(alpha))).astype(np.float32)


def beam_search(state, step, width, alpha, nbest, max_length, start_id, end_id):
    """The n-best target ids of one input.

    `state` is the encoder's output for that input: a dict of arrays with batch 1. `step(tokens (width,),
    state) -> (logits (width, V), updates)` runs the decoder one token for every hypothesis; `updates` holds
    the state entries that changed (the rest stay as they are). Returns (tokens (nbest, max_length) filled with
    `end_id` after each end, scores (nbest,)), best first.
    """
    state = {name: np.repeat(value, width, axis=0) for name, value in state.items()}
    log_prob = np.full(width, NEG, np.float32)
    log_prob[0] = 0.0  # only one live hypothesis at the start: no duplicates in the beam
    length = np.zeros(width, np.int32)
    finished = np.zeros(width, bool)
    tokens = np.full(width, start_id, np.int32)
    written = np.full((width, max_length), end_id, np.int32)
    for t in range(max_length):
        logits, updates = step(tokens, state)
        state.update(updates)
        log_probs = log_softmax(logits)
        vocab = log_probs.shape[1]
        only_end = np.full(vocab, NEG, np.float32)
        only_end[end_id] = 0.0  # a finished hypothesis continues with the end token only, for free
        log_probs = np.where(finished[:, None], only_end, log_probs)
        total = (log_prob[:, None] + log_probs).astype(np.float32)
        length = length + (~finished).astype(np.int32)
        scores = normalize(total, length[:, None], alpha).reshape(-1)
        best = np.argsort(-scores, kind="stable")[:width]  # top-k; equal scores: the lower index first
        parents, tokens = best // vocab, (best % vocab).astype(np.int32)
        log_prob, length = total.reshape(-1)[best], length[parents]
        finished = finished[parents] | (tokens == end_id)
        written = written[parents]
        written[:, t] = tokens
        state = {name: value[parents] for name, value in state.items()}
        if finished.all():
            break
    return written[:nbest], normalize(log_prob, length, alpha)[:nbest]


class StepModelSearch:
    """Beam search over a LiteRT file with `encode` and `decode_step` signatures: `search(**inputs)` (encode's
    inputs for one example, cast and reshaped to encode's: `source=ids (1, S)` for an encoder of ids (S,),
    `images=(1, S, S, 3)` 0-255 for one of float pixels) returns {"tokens": (1, nbest, max_length),
    "scores": (1, nbest)}, the outputs of the in-graph search.

    The decode_step signature takes "tokens" (width,) and every state entry, and gives "logits" (width, V)
    and the entries it updates; `width` is its batch size. The entries encode does not give start as zeros.
    """

    def __init__(self, interpreter, alpha, nbest, max_length, start_id, end_id):
        self.encode = interpreter.get_signature_runner("encode")
        self.step = interpreter.get_signature_runner("decode_step")
        self.inputs = {name: (d["shape"], d["dtype"]) for name, d in self.encode.get_input_details().items()}
        inputs = self.step.get_input_details()
        self.width = int(inputs["tokens"]["shape"][0])
        self.zeros = {name: np.zeros([1, *d["shape"][1:]], d["dtype"]) for name, d in inputs.items()
                      if name != "tokens"}
        self.alpha, self.nbest, self.max_length = alpha, nbest, max_length
        self.start_id, self.end_id = start_id, end_id

    def _step(self, tokens, state):
        outputs = self.step(tokens=tokens, **state)
        return outputs.pop("logits"), outputs

    def __call__(self, **inputs):
        inputs = {n: np.asarray(v).astype(self.inputs[n][1]).reshape(self.inputs[n][0]) for n, v in inputs.items()}
        state = {**self.zeros, **self.encode(**inputs)}
        tokens, scores = beam_search(state, self._step, self.width, self.alpha, self.nbest, self.max_length,
                                     self.start_id, self.end_id)
        return {"tokens": tokens[None], "scores": scores[None]}
