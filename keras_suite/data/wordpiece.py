"""Subword pieces: a vocabulary learned by SentencePiece's BPE (Sennrich et al. 2016, "Neural Machine Translation
of Rare Words with Subword Units"; Kudo & Richardson 2018) from the training words, and words split into pieces
the WordPiece way (greedy longest-match-first, as BERT's tokenizer: Wu et al. 2016, "Google's Neural Machine
Translation System") with TensorFlow string ops only, so tokenization stays inside training pipelines and
exported SavedModels without a custom op. A piece that continues a word is written `##piece`.

`split_word` is the same rule in plain Python: the reference for a host (a phone app) that feeds token ids to
the TFLite files."""

import io

import tensorflow as tf

CONTINUE = "##"
MAX_WORD_CHARS = 100  # longer words are one unknown token, as in BERT


def learn_pieces(words, vocab_size):
    """About `vocab_size` pieces (fewer when the words hold fewer) learned by BPE from `words` (an iterable of
    words, repeated as often as they occur), in WordPiece notation, most useful first; each character of the
    words is a piece both at a word's start and as a continuation, so every seen character can be written."""
    import sentencepiece

    words = list(words)
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(words), model_writer=model, vocab_size=max(vocab_size, 8), model_type="bpe",
        character_coverage=1.0, hard_vocab_limit=False, split_digits=False, bos_id=-1, eos_id=-1, unk_id=0,
        minloglevel=2, train_extremely_large_corpus=False)
    processor = sentencepiece.SentencePieceProcessor(model_proto=model.getvalue())
    pieces = []
    for i in range(processor.get_piece_size()):
        if processor.is_unknown(i) or processor.is_control(i):
            continue
        piece = processor.id_to_piece(i)
        if piece != "\u2581":
            pieces.append(piece[1:] if piece.startswith("\u2581") else CONTINUE + piece)
    seen = set(pieces)
    for char in sorted({c for w in words for c in w}):
        pieces += [p for p in (char, CONTINUE + char) if p not in seen]
    return pieces


def split_word(word, pieces, unknown):
    """The pieces of `word` (greedy longest-match-first over the set `pieces`), or [unknown] if it cannot be
    covered or is longer than MAX_WORD_CHARS."""
    if len(word) > MAX_WORD_CHARS:
        return [unknown]
    out, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 else CONTINUE + word[start:end]
            if piece in pieces:
                out.append(piece)
                start = end
                break
        else:
            return [unknown]
    return out


def split_words(words, lookup, unknown_id, longest, unknown):
    """Ragged (N, K) string pieces of a 1-D string tensor of `words`, by `split_word`'s rule: `lookup` maps a
    piece to its id (`unknown_id` when not a piece); `longest` is the longest piece in characters."""
    words = tf.convert_to_tensor(words, tf.string)
    n = tf.shape(words)[0]
    lengths = tf.strings.length(words, unit="UTF8_CHAR")
    sizes = tf.range(1, longest + 1)
    grid = tf.tile(words[:, None], [1, longest])

    def step(i, start, failed, starts, taken):
        open_ = (start < lengths) & ~failed
        at = start[:, None] + tf.zeros_like(sizes)[None]  # (N, longest), shapes as the grid's for substr
        candidates = tf.strings.substr(grid, at, tf.zeros_like(at) + sizes[None], unit="UTF8_CHAR")
        candidates = tf.where(start[:, None] > 0, CONTINUE + candidates, candidates)
        known = (start[:, None] + sizes[None] <= lengths[:, None]) & tf.not_equal(lookup(candidates), unknown_id)
        best = tf.reduce_max(tf.where(known, sizes[None], 0), axis=1)
        failed = failed | (open_ & tf.equal(best, 0))
        best = tf.where(open_, best, 0)
        return i + 1, start + best, failed, starts.write(i, start), taken.write(i, best)

    def more(i, start, failed, starts, taken):  # one step at least, so that no words give a (0, 1) table
        return tf.equal(i, 0) | tf.reduce_any((start < lengths) & ~failed)

    arrays = [tf.TensorArray(tf.int32, size=0, dynamic_size=True, element_shape=[None]) for _ in range(2)]
    _, _, failed, starts, taken = tf.while_loop(
        more, step, (0, tf.zeros([n], tf.int32), lengths > MAX_WORD_CHARS, *arrays),
        maximum_iterations=MAX_WORD_CHARS)
    starts, taken = tf.transpose(starts.stack()), tf.transpose(taken.stack())  # (N, steps)
    pieces = tf.strings.substr(tf.broadcast_to(words[:, None], tf.shape(starts)), starts, taken, unit="UTF8_CHAR")
    pieces = tf.where(starts > 0, CONTINUE + pieces, pieces)
    first = tf.equal(tf.range(tf.shape(starts)[1])[None], 0)
    keep = tf.where(failed[:, None], first, taken > 0)
    pieces = tf.where(failed[:, None], tf.fill(tf.shape(pieces), unknown), pieces)
    return tf.ragged.boolean_mask(pieces, keep)
