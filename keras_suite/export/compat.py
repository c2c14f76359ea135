"""Which runtimes can run an exported .tflite file, and the first op that stops each.

Three targets: the CPU (builtin ops, with the share XNNPACK takes measured by applying it), LiteRT's GPU
delegate (its op list and per-op constraints as `tensorflow/lite/tools/versioning/gpu_compatibility.cc` and
the delegate's graph partitioning state them: float runtime tensors, no control flow, static shapes, at most
4-D), and full-integer accelerators (NPUs, Edge TPU: every runtime tensor 8-bit, no float op, static shapes,
at most 4-D). The GPU and integer verdicts are offline checks against published rules, not a run on the
device; the report says so.
"""

import dataclasses

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from keras_suite.export import tflite

TYPES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
FLOAT = {"FLOAT32", "FLOAT16"}
INT8 = {"INT8", "UINT8"}
# the ops gpu_compatibility.cc accepts (TF 2.21); anything else, control flow included, runs on the CPU
GPU_OPS = {
    "ABS", "ADD", "ADD_N", "ATAN2", "AVERAGE_POOL_2D", "BATCH_MATMUL", "CAST", "CEIL", "CONCATENATION", "CONV_2D",
    "COS", "CUMSUM", "DENSIFY", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE", "DIV", "DYNAMIC_UPDATE_SLICE",
    "ELU", "EMBEDDING_LOOKUP", "EQUAL", "EXP", "FLOOR", "FLOOR_DIV", "FLOOR_MOD", "FULLY_CONNECTED", "GATHER",
    "GELU", "GREATER", "GREATER_EQUAL", "HARD_SWISH", "LEAKY_RELU", "LESS", "LESS_EQUAL", "LOG", "LOGICAL_AND",
    "LOGISTIC", "LSTM", "MAXIMUM", "MAX_POOL_2D", "MEAN", "MINIMUM", "MIRROR_PAD", "MUL", "NEG", "NOT_EQUAL",
    "ONE_HOT", "PACK", "PAD", "PADV2", "POW", "PRELU", "QUANTIZE", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "RELU",
    "RELU6", "RELU_N1_TO_1", "RESHAPE", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "RSQRT", "SELECT",
    "SELECT_V2", "SIGN", "SIN", "SLICE", "SOFTMAX", "SPACE_TO_DEPTH", "SPLIT", "SPLIT_V", "SQRT", "SQUARE",
    "SQUARED_DIFFERENCE", "STABLEHLO_CLAMP", "STRIDED_SLICE", "SUB", "SUM", "TANH", "TILE", "TRANSPOSE",
    "TRANSPOSE_CONV"}
COMPARISONS = {"EQUAL", "NOT_EQUAL", "GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL", "LOGICAL_AND"}
REDUCTIONS = {"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"}
CONTROL_FLOW = {"WHILE", "IF", "CALL_ONCE"}


@dataclasses.dataclass
class Tensor:
    type: str
    shape: tuple
    dynamic: bool
    const: bool


@dataclasses.dataclass
class Op:
    subgraph: int
    index: int
    name: str
    inputs: list
    outputs: list
    options: object
    main: bool = True  # in a signature's graph, not in a loop or branch body

    def where(self):
        return f"{self.name} (op {self.index} of subgraph {self.subgraph})"


def _ops(flatbuffer):
    model = schema.ModelT.InitFromPackedBuf(flatbuffer, 0)

    def tensor(graph, i):
        t = graph.tensors[i]
        signature = t.shapeSignature if t.shapeSignature is not None else t.shape
        buffer = model.buffers[t.buffer] if model.buffers and t.buffer < len(model.buffers) else None
        return Tensor(TYPES.get(t.type, str(t.type)), tuple(int(d) for d in (t.shape if t.shape is not None else ())),
                      bool(signature is not None and np.any(np.asarray(signature) < 0)),
                      buffer is not None and buffer.data is not None and len(buffer.data) > 0)

    entries = {s.subgraphIndex for s in model.signatureDefs or []} or {0}
    found = []
    for g, graph in enumerate(model.subgraphs):
        for k, op in enumerate(graph.operators or []):
            name = tflite.builtin_name(model, op)
            if name == "CUSTOM":
                code = model.operatorCodes[op.opcodeIndex].customCode
                name = f"CUSTOM {code.decode() if code else ''}".strip()
            found.append(Op(g, k, name, [tensor(graph, i) for i in op.inputs if i >= 0],
                            [tensor(graph, i) for i in op.outputs if i >= 0], op.builtinOptions, g in entries))
    return found


def _gpu_types(op):
    """The reason the delegate's partitioner leaves an op on the CPU for its runtime tensor types, or None
    (with its default options, which take quantized 8-bit ops too)."""
    allowed_in, allowed_out = FLOAT | INT8, FLOAT | INT8
    if op.name == "CAST":
        allowed_in |= {"BOOL", "INT32"}
        allowed_out |= {"BOOL", "INT32"}
    if op.name in COMPARISONS:
        allowed_out.add("BOOL")
    if op.name in ("SELECT", "SELECT_V2", "LOGICAL_AND"):
        allowed_in.add("BOOL")
    if op.name in ("GATHER", "ONE_HOT", "EMBEDDING_LOOKUP", "DYNAMIC_UPDATE_SLICE"):
        allowed_in.add("INT32")
    for side, tensors, allowed in (("input", op.inputs, allowed_in), ("output", op.outputs, allowed_out)):
        bad = sorted({t.type for t in tensors if not t.const and t.type not in allowed})
        if bad:
            return f"{'/'.join(bad)} {side} (the GPU delegate runs float and 8-bit tensors)"
    return None


def _gpu_reason(op):
    """Why the GPU delegate cannot take this op, or None."""
    if op.name not in GPU_OPS:
        return "not a GPU delegate op" + (" (control flow)" if op.name in CONTROL_FLOW else "")
    if op.name == "DEQUANTIZE" and op.inputs[0].const and op.inputs[0].type == "FLOAT16":
        return None  # fp16 weights: the delegate folds them into the op that reads them
    if op.name == "CAST":
        pair = (op.inputs[0].type, op.outputs[0].type)
        ok = (pair[0] == "BOOL" and pair[1] in FLOAT) or (pair[0] in FLOAT and pair[1] == "BOOL") or (
            pair[0] in ("FLOAT32", "INT32") and pair[1] in ("FLOAT32", "INT32"))
        if not ok:
            return f"CAST {pair[0]} -> {pair[1]} is not supported"
    reason = _gpu_types(op)
    if reason:
        return reason
    runtime = [t for t in op.inputs + op.outputs if not t.const]
    if any(len(t.shape) > 4 for t in runtime):
        return "a tensor of more than 4 dimensions"
    options = op.options
    if op.name == "STRIDED_SLICE":
        if options.ellipsisMask or options.newAxisMask or options.shrinkAxisMask:
            return "STRIDED_SLICE with an ellipsis, new-axis or shrink-axis mask"
        if len(op.inputs[0].shape) not in (3, 4):
            return "STRIDED_SLICE of a tensor that is not 3-D or 4-D"
    if op.name == "SLICE" and len(op.inputs[0].shape) not in (3, 4):
        return "SLICE of a tensor that is not 3-D or 4-D"
    if op.name == "SOFTMAX" and options.beta != 1:
        return "SOFTMAX with beta != 1"
    if op.name == "GATHER" and (op.inputs[0].type == "INT32" or len(op.inputs[1].shape) != 1):
        return "GATHER of int32 values or with indices that are not 1-D"
    if op.name == "FULLY_CONNECTED" and op.inputs[0].const:
        return "FULLY_CONNECTED with a constant input"
    if op.name in REDUCTIONS and not (len(op.inputs) > 1 and op.inputs[1].const):
        return f"{op.name} over axes that are not constant"
    if op.name == "ADD_N" and len(op.inputs) != 2:
        return "ADD_N of more than 2 inputs"
    if op.name == "MUL" and len(op.inputs) == 2 and len(op.inputs[0].shape) == len(op.inputs[1].shape):
        pairs = list(zip(op.inputs[0].shape, op.inputs[1].shape))
        if any(a < b for a, b in pairs) and any(b < a for a, b in pairs):
            return "MUL where neither input is at least as large as the other in every dimension"
    if op.name in ("SELECT", "SELECT_V2"):
        out = op.outputs[0].shape
        for t in op.inputs[1:]:
            if (t.shape and t.shape != out and (len(t.shape) > 1 or t.shape[0] > 1)) or (t.const and len(t.shape) == 2):
                return f"{op.name} whose values are neither the output's shape nor a scalar"
    if op.name == "ONE_HOT":
        indices = op.inputs[0].shape
        if any(d != 1 for i, d in enumerate(indices[:-1]) if not (len(indices) > 3 and i == 0)):
            return "ONE_HOT of indices with more than one non-singleton dimension"
        if not (op.inputs[2].const and op.inputs[3].const):
            return "ONE_HOT with on/off values that are not constant"
    if op.name == "EMBEDDING_LOOKUP" and len(op.inputs[0].shape) != 1:
        return "EMBEDDING_LOOKUP with ids that are not 1-D"
    return None


def _int8_reason(op):
    """Why a full-integer accelerator cannot take this op, or None."""
    if op.name in CONTROL_FLOW:
        return "control flow"
    bad = sorted({t.type for t in op.inputs + op.outputs if not t.const and t.type not in INT8})
    if bad:
        return f"{'/'.join(bad)} runtime tensor (not 8-bit)"
    bad = sorted({t.type for t in op.inputs if t.const and t.type not in INT8 | {"INT32"}})
    if bad:
        return f"{'/'.join(bad)} constant"
    if any(len(t.shape) > 4 for t in op.inputs + op.outputs if not t.const):
        return "a tensor of more than 4 dimensions"
    return None


def _verdict(ops, reason):
    """"yes" (the whole model), "partial" (some main-graph ops, the rest on the CPU) or "no", the first op that
    blocks it and the kinds of op that do."""
    def why(op):
        if any(t.dynamic for t in op.inputs + op.outputs):
            return "a tensor of dynamic shape"
        return reason(op)

    blockers = [(op, r) for op in ops if (r := why(op))]
    main = [op for op in ops if op.main]
    taken = sum(1 for op in main if not why(op))
    verdict = {"supported": "yes" if not blockers else "partial" if taken else "no",
               "main_graph_ops_taken": taken, "main_graph_ops": len(main)}
    if blockers:
        op, reason_ = blockers[0]
        verdict["first_blocker"] = {"op": op.name, "subgraph": op.subgraph, "index": op.index, "reason": reason_}
        verdict["blocking_ops"] = sorted({op.name for op, _ in blockers})
    return verdict


def report(flatbuffer):
    """The compatibility report of one model: ops per subgraph and a verdict per target."""
    ops = _ops(flatbuffer)
    graphs = {}
    for op in ops:
        graphs.setdefault(op.subgraph, {}).setdefault(op.name, 0)
        graphs[op.subgraph][op.name] += 1
    non_builtin = tflite.non_builtin_ops(flatbuffer)
    cpu = {"supported": "no" if non_builtin else "yes",
           "xnnpack_partitions": tflite.op_names(flatbuffer, delegated=True).count("DELEGATE")}
    if non_builtin:
        cpu["first_blocker"] = {"op": non_builtin[0], "reason": "not a builtin op"}
    return {"subgraphs": [{"index": g, "ops": dict(sorted(names.items()))} for g, names in sorted(graphs.items())],
            "targets": {"cpu": cpu, "gpu": _verdict(ops, _gpu_reason), "full_int8": _verdict(ops, _int8_reason)},
            "note": "gpu and full_int8 are offline checks against the published rules of LiteRT's GPU delegate "
                    "and of 8-bit accelerators, not runs on those devices"}


def _cell(target):
    if target["supported"] == "yes":
        return "yes"
    blocker = target.get("first_blocker", {})
    first = f"{blocker.get('op', '?')}" + (f" in subgraph {blocker['subgraph']}" if blocker.get("subgraph") else "")
    if target["supported"] == "partial":
        return f"partial {target['main_graph_ops_taken']}/{target['main_graph_ops']}, first {first}"
    return f"no: {first}"


def format_table(reports):
    """One line per file: its op count and each target's verdict with the first blocker (GPU and 8-bit: the
    main-graph ops the target could take, when not all)."""
    lines = [f"{'file':<24}{'ops':>5}  {'CPU':<26}  {'GPU delegate':<40}  full int8 (NPU, Edge TPU)"]
    for name, r in reports.items():
        targets = r["targets"]
        total = sum(sum(g["ops"].values()) for g in r["subgraphs"])
        cpu = _cell(targets["cpu"]) + (f" (XNNPACK {targets['cpu']['xnnpack_partitions']} parts)"
                                       if targets["cpu"]["supported"] == "yes" else "")
        lines.append(f"{name:<24}{total:>5}  {cpu:<26}  {_cell(targets['gpu']):<40}  {_cell(targets['full_int8'])}")
    return "\n".join(lines)
