"""An encoder-decoder's search split for runtimes that cannot run a search loop (GPU delegates, NPUs): an `encode`
signature (the input -> the decoder's state) and a `decode_step` signature (the last token of each of the beam's
hypotheses and the state -> next-token logits and the state entries it updates), driven on the host by
`decoding.host_beam`, which gives the in-graph search's n-best. Used by the translation and captioning apps."""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from keras_suite.data.tokenizer import END_ID, START_ID
from keras_suite.decoding.host_beam import StepModelSearch
from keras_suite.export import litert_metadata as litert
from keras_suite.export.serving import Layout

STATE = {  # what each entry of a decoder's state holds, by its name before the layer number
    "self_keys": "self-attention keys of decoder layer {n}, one row per position (zeros until written)",
    "self_values": "self-attention values of decoder layer {n}, one row per position (zeros until written)",
    "cross_keys": "cross-attention keys of decoder layer {n}, projected from the encoder output once",
    "cross_values": "cross-attention values of decoder layer {n}, projected from the encoder output once",
    "written": "1 at each target position written so far, 0 after (the next token goes at the first 0)",
    "rnn": "decoder RNN state {n}",
    "memory": "encoder outputs the decoder attends over",
    "mask": "1 at each source position that holds a token, 0 at padding"}


@dataclasses.dataclass(frozen=True)
class StepInput:
    """The encoder's one input: its `name` and batch-1 `spec`, two different `examples` of it (entries of the state
    that are zeros for both start as zeros, made on the host), what it is (`what`, for the metadata), the `task`
    ("translation"), the vocabulary file of the output ids (`vocabulary`) and the Python that makes an input
    called `name` in the model card (`usage`); `feature`: the input's LiteRT description when its shape is not the
    main signature's (the host reshapes an input to encode's shape)."""

    name: str
    spec: tf.TensorSpec
    examples: tuple
    what: str
    task: str
    vocabulary: str
    usage: str
    feature: dict = None


def step_layout(decoder, beam, max_length, step_input, main, encode=None):
    """The `tflite_step` layout of `decoder` (its `step`, and `encode` unless another is given: the translators
    give the one that exports to float ops only) searched by `beam` for at most `max_length` tokens; `main` is the
    main signature's LiteRT description."""
    encode_input = encode or decoder.encode
    name = step_input.name
    example = encode_input(step_input.examples[0])
    names = ["_".join(map(str, path)) for path, _ in keras.tree.flatten_with_path(example)]

    def flat(state):
        return dict(zip(names, keras.tree.flatten(state)))

    other = flat(encode_input(step_input.examples[1]))
    # entries that start as zeros whatever the input (caches, the position) are not encode's outputs: a
    # converter would give the equal constants one tensor, and the host makes them
    zeros = [n for n, t in flat(example).items() if not np.any(t) and not np.any(other[n])]

    def encode(inputs):
        return {n: t for n, t in flat(encode_input(inputs[name])).items() if n not in zeros}

    def decode_step(inputs):
        state = keras.tree.pack_sequence_as(example, [inputs[n] for n in names])
        logits, updated = decoder.step(inputs["tokens"], state)
        return {"logits": logits, **{n: t for n, t in flat(updated).items() if t is not inputs[n]}}

    width = beam.width
    step_spec = {"tokens": tf.TensorSpec([width], tf.int32),
                 **{n: tf.TensorSpec([width, *t.shape[1:]], t.dtype) for n, t in flat(example).items()}}
    _, stepped = decoder.step(tf.fill([1], START_ID), example)  # which entries a step changes, as decode_step sees
    updated = [n for n, t in flat(stepped).items() if t is not flat(example)[n]]

    def state(entry, rows):
        kind, _, number = entry.rpartition("_") if entry[-1].isdigit() else (entry, "", "0")
        start = "; zeros at the start" if entry in zeros else ""
        return litert.feature(f"[{rows}, ...] float32 {STATE[kind].format(n=int(number) + 1)}{start}")

    signatures = {
        "encode": litert.Signature(
            f"{step_input.what} -> the decoder's state for it (batch 1: repeat it for each of the beam's {width} "
            "hypotheses; the entries it does not give start as zeros)", {name: step_input.feature or main.inputs[name]},
            {n: state(n, 1) for n in names if n not in zeros}),
        "decode_step": litert.Signature(
            f"one search step for the {width} hypotheses of a beam: their last token and state -> the logits of "
            "the next token and the state entries the step changes (feed those back; the others stay)",
            {"tokens": litert.feature(f"[{width}] int32 last token of each hypothesis (first the start id "
                                      f"{START_ID})"), **{n: state(n, width) for n in names}},
            {"logits": {**litert.feature(f"[{width}, vocabulary] float32 next-token logits"),
                        "associated_files": [{"name": step_input.vocabulary, "type": "TENSOR_AXIS_LABELS"}]},
             **{n: state(n, width) for n in updated}})}
    description = dataclasses.replace(
        main, description=f"{step_input.task} as an encoder and one decoder step; the beam search (width {width}, "
                          f"length normalization alpha {beam.alpha}, at most {max_length} tokens) runs on the host, "
                          "as keras_suite.decoding.host_beam does it, and gives the n-best of the search inside "
                          "model.tflite", inputs={}, outputs={}, signatures=signatures)
    return Layout(
        None, dict, description,
        signatures={"encode": (encode, {name: step_input.spec}), "decode_step": (decode_step, step_spec)},
        runner=lambda interpreter: StepModelSearch(interpreter, beam.alpha, beam.nbest, max_length, START_ID, END_ID),
        usage=(f"import numpy as np\n"
               "from ai_edge_litert.interpreter import Interpreter\n"
               "from keras_suite.decoding.host_beam import StepModelSearch  # NumPy only: beam_search() is the part "
               "to port\n\n"
               f'search = StepModelSearch(Interpreter(model_path="{{file}}"), alpha={beam.alpha}, nbest={beam.nbest}, '
               f"max_length={max_length},\n"
               f"                         start_id={START_ID}, end_id={END_ID})\n"
               f"{step_input.usage}\n"
               f'print(search({name}={name})["tokens"][0, 0])  # the best output\'s ids ({step_input.vocabulary}); '
               "end id, then padding"))
