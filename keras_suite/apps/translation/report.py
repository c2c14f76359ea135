"""Translation evaluation shared by the seq2seq and transformer apps: BLEU and exact match per search
strategy in one table, and the search-vs-model error analysis."""

from keras_suite.decoding import classify_errors
from keras_suite.decoding.compare import timed_best
from keras_suite.metrics import corpus_bleu, exact_match


def compare_searches(translator, pairs, strategies, progress=None):
    """BLEU, exact match and ms/sentence of each (name, strategy) on `pairs`; also the outputs."""
    sources, targets = [s for s, _ in pairs], [t for _, t in pairs]
    refs = [[r] for r in translator.token_lists(targets)]
    rows, outputs = [], {}
    for name, strategy in strategies:
        texts, ms = timed_best(translator.translate, sources, strategy)
        hyps = translator.token_lists(texts)
        bleu = corpus_bleu(hyps, refs)
        rows.append({"search": name, "bleu": bleu["bleu"], "exact_match": exact_match(hyps, refs),
                     "precisions": bleu["precisions"], "brevity_penalty": bleu["brevity_penalty"],
                     "ms_per_sentence": ms})
        outputs[name] = texts
        if progress is not None:
            progress.add(1)
    return rows, outputs


def format_table(rows):
    lines = [f"{'search':<10}{'BLEU':>8}{'exact':>8}{'ms/sent':>9}   1-4-gram precisions"]
    for r in rows:
        precisions = " ".join(f"{p:.3f}" for p in r["precisions"])
        lines.append(f"{r['search']:<10}{100 * r['bleu']:>8.2f}{r['exact_match']:>8.4f}{r['ms_per_sentence']:>9.2f}"
                     f"   {precisions}")
    return "\n".join(lines)


def analyze_errors(translator, pairs, strategy, batch_size=256):
    """Beam output vs reference for each pair, scored by the model under the search's objective.

    Returns classify_errors' counts plus per-example records (source, reference, output, the raw
    and normalized log-probabilities of both).
    """
    records = []
    for begin in range(0, len(pairs), batch_size):
        chunk = pairs[begin:begin + batch_size]
        source_ids = translator.source_ids([s for s, _ in chunk])
        tokens, _ = translator.search_ids(source_ids, strategy)
        output_ids = tokens[:, 0]
        outputs = translator.target_tok.decode(output_ids).numpy()
        reference_ids = translator.target_ids([t for _, t in chunk])
        ref_lp, ref_len = translator.score_ids(source_ids, reference_ids)
        out_lp, out_len = translator.score_ids(source_ids, output_ids)
        ref_score = strategy.normalize(ref_lp, ref_len).numpy()  # the objective the search ranked by
        out_score = strategy.normalize(out_lp, out_len).numpy()
        for i, (source, target) in enumerate(chunk):
            records.append({"source": source, "reference": target, "output": outputs[i].decode("utf-8"),
                            "reference_log_prob": float(ref_lp[i]), "output_log_prob": float(out_lp[i]),
                            "reference_score": float(ref_score[i]), "output_score": float(out_score[i])})
    refs = translator.token_lists([r["reference"] for r in records])
    hyps = translator.token_lists([r["output"] for r in records])
    correct = [h == r for h, r in zip(hyps, refs)]
    result = classify_errors([r["reference_score"] for r in records], [r["output_score"] for r in records], correct)
    for record, label in zip(records, result.pop("labels")):
        record["verdict"] = label
    return {**result, "records": records}
