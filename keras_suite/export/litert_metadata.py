"""LiteRT metadata inside a .tflite file, where phone SDKs look for it.

The `TFLITE_METADATA` buffer holds a `ModelMetadata` flatbuffer of the LiteRT metadata schema
(`metadata_schema.fbs` 1.5.0, vendored from tensorflow/tflite-support under the Apache License 2.0): model
name, description, version, author, licence; per input and output tensor its meaning, content (image colour
space and size, bounding boxes), normalization, value range and label files. Associated files (labels.txt,
vocabularies) are appended to the model as an uncompressed zip, as the schema's own populator does, so the
file stays one valid flatbuffer and one valid zip. This is what MediaPipe Tasks and the LiteRT support
library read.
"""

import dataclasses
import io
import zipfile
from pathlib import Path

import numpy as np
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.tools import flatbuffer_utils

from keras_suite.export.flatbuffer_schema import Schema

SCHEMA = Schema((Path(__file__).with_name("metadata_schema.fbs")).read_text(encoding="utf-8"))
BUFFER_NAME = "TFLITE_METADATA"


@dataclasses.dataclass
class Description:
    """What the metadata of an app's .tflite files says.

    `inputs` and `outputs` map the signature's tensor names to `TensorMetadata` fields (the JSON form of the
    schema, without "name"); `files` maps associated file names to (content, `AssociatedFile` fields without
    "name"). A tensor refers to a file by {"name": ...}, with fields of its own that override the file's (the
    same labels file may label an axis of one tensor and the values of another); a file no tensor refers to
    is listed in the model's associated files. A file of several signatures describes each in `signatures`
    {key: Signature} instead of `inputs` and `outputs`.
    """

    name: str
    description: str
    inputs: dict = dataclasses.field(default_factory=dict)
    outputs: dict = dataclasses.field(default_factory=dict)
    files: dict = dataclasses.field(default_factory=dict)
    output_groups: list = dataclasses.field(default_factory=list)
    version: str = ""
    author: str = ""
    license: str = ""
    signatures: dict = dataclasses.field(default_factory=dict)

    def signature(self, key):
        """The Signature describing signature `key` (the main one is "serve")."""
        if self.signatures:
            if key not in self.signatures:
                raise ValueError(f"the metadata describes signatures {sorted(self.signatures)}, not '{key}'")
            return self.signatures[key]
        return Signature(self.description, self.inputs, self.outputs, self.output_groups)


@dataclasses.dataclass
class Signature:
    """What one signature (subgraph) does and its tensors, as in `Description`."""

    description: str
    inputs: dict
    outputs: dict
    output_groups: list = dataclasses.field(default_factory=list)


def image_input(size, description, channels="RGB"):
    """A uint8 image tensor (batch 1, size x size, 0-255) that the graph normalizes itself."""
    return {"description": description,
            "content": {"content_properties_type": "ImageProperties",
                        "content_properties": {"color_space": channels,
                                               "default_size": {"width": size, "height": size}}},
            "process_units": [{"options_type": "NormalizationOptions", "options": {"mean": [0.0], "std": [1.0]}}],
            "stats": {"max": [255.0], "min": [0.0]}}


def image_output(description, channels="RGB", stats=(0.0, 255.0)):
    """An image tensor the model writes (a stylized photo, a segmentation mask)."""
    return {"description": description,
            "content": {"content_properties_type": "ImageProperties", "content_properties": {"color_space": channels}},
            "stats": {"min": [float(stats[0])], "max": [float(stats[1])]}}


def feature(description, files=(), value_range=None, stats=None):
    """A plain tensor: its meaning, the dimensions (first, last) that make one item when it holds several,
    (min, max) of its values and the associated file names that label it."""
    meta = {"description": description,
            "content": {"content_properties_type": "FeatureProperties", "content_properties": {}}}
    if value_range is not None:
        meta["content"]["range"] = {"min": value_range[0], "max": value_range[1]}
    if stats is not None:
        meta["stats"] = {"min": [float(stats[0])], "max": [float(stats[1])]}
    if files:
        meta["associated_files"] = [{"name": name} for name in files]
    return meta


def boxes(description, order, coordinates):
    """A [1, N, 4] box tensor: `order` is the positions of (left, top, right, bottom) in the last axis,
    `coordinates` "RATIO" (0-1) or "PIXEL"."""
    return {"description": description,
            "content": {"content_properties_type": "BoundingBoxProperties",
                        "content_properties": {"index": list(order), "type": "BOUNDARIES",
                                               "coordinate_type": coordinates},
                        "range": {"min": 2, "max": 2}}}


def text_file(lines):
    """The bytes of a one-item-per-line file."""
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def vocabulary_file(tokens):
    """The bytes of a vocabulary: line i holds the token of id i, with newline, carriage return, tab and backslash
    written as \\n, \\r, \\t and \\\\ (so a character vocabulary fits one token per line)."""
    escapes = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return text_file("".join(escapes.get(c, c) for c in token) for token in tokens)


def _signature(model, graph):
    """(signature key, input names, output names) of a subgraph, the names in the subgraph's tensor order."""
    for signature in model.signatureDefs or []:
        if signature.subgraphIndex == graph:
            names = []
            for which in ("inputs", "outputs"):
                by_index = {t.tensorIndex: t.name.decode() for t in getattr(signature, which)}
                names.append([by_index[i] for i in getattr(model.subgraphs[graph], which)])
            return signature.signatureKey.decode(), *names
    raise ValueError(f"subgraph {graph} has no signature")


def _tensors(described, names, files):
    if sorted(described) != sorted(names):
        raise ValueError(f"the metadata describes {sorted(described)}, the model's tensors are {sorted(names)}")
    tensors = []
    for name in names:
        meta = {"name": name, **described[name]}
        if "associated_files" in meta:
            unknown = [f["name"] for f in meta["associated_files"] if f["name"] not in files]
            if unknown:
                raise ValueError(f"{name} refers to associated files {unknown} that are not given")
            meta["associated_files"] = [{**files[f["name"]][1], **f} for f in meta["associated_files"]]
        tensors.append(meta)
    return tensors


def _quantization(model):
    """{signature key: {tensor name: (dtype, scale, zero point)}} of the quantized inputs and outputs of a `ModelT`."""
    types = {v: k.lower() for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    found = {}
    for signature in model.signatureDefs or []:
        tensors = model.subgraphs[signature.subgraphIndex].tensors
        for item in [*signature.inputs, *signature.outputs]:
            q = tensors[item.tensorIndex].quantization
            if q is not None and q.scale is not None and len(q.scale) == 1:
                found.setdefault(signature.signatureKey.decode(), {})[item.name.decode()] = (
                    types[tensors[item.tensorIndex].type], float(q.scale[0]), int(q.zeroPoint[0]))
    return found


def quantized(description, flatbuffer):
    """`description` with the scale and zero point of each quantized input and output of the model written into
    that tensor's description (real value = scale x (q - zero point)), for a full-integer file."""
    found = _quantization(schema.ModelT.InitFromPackedBuf(flatbuffer, 0))

    def annotate(tensors, quantized):
        return {name: {**meta, "description": f"{meta.get('description', '')}; {quantized[name][0]}, quantized: "
                       f"real value = {quantized[name][1]:.9g} x (q - {quantized[name][2]})"}
                if name in quantized else meta for name, meta in tensors.items()}

    signatures = {}
    for key, tensors in found.items():
        described = description.signature(key)
        signatures[key] = dataclasses.replace(described, inputs=annotate(described.inputs, tensors),
                                              outputs=annotate(described.outputs, tensors))
    if description.signatures:
        return dataclasses.replace(description, signatures={**description.signatures, **signatures})
    main = signatures.get("serve")
    return description if main is None else dataclasses.replace(description, inputs=main.inputs, outputs=main.outputs)


def model_metadata(flatbuffer, description):
    """The `ModelMetadata` dict of `description`, one subgraph entry per signature in subgraph order, with the
    lowest metadata parser version that reads all of it."""
    model = schema.ModelT.InitFromPackedBuf(flatbuffer, 0)
    graphs, tensors = [], []
    for graph in sorted(s.subgraphIndex for s in model.signatureDefs or []) or [0]:
        key, input_names, output_names = _signature(model, graph)
        described = description.signature(key)
        inputs = _tensors(described.inputs, input_names, description.files)
        outputs = _tensors(described.outputs, output_names, description.files)
        subgraph = {"name": key, "description": described.description,
                    "input_tensor_metadata": inputs, "output_tensor_metadata": outputs}
        if described.output_groups:
            subgraph["output_tensor_groups"] = described.output_groups
        graphs.append(subgraph)
        tensors += inputs + outputs
    meta = {"name": description.name, "description": description.description, "subgraph_metadata": graphs}
    meta.update({k: v for k in ("version", "author", "license") if (v := getattr(description, k))})
    referenced = {f["name"] for t in tensors for f in t.get("associated_files", [])}
    rest = [{"name": name, **fields} for name, (_, fields) in description.files.items() if name not in referenced]
    if rest:
        meta["associated_files"] = rest
    _, version = SCHEMA.encode(meta)
    meta["min_parser_version"] = ".".join(map(str, version))
    return meta


class _AlignedBuffer(schema.BufferT):
    """A weights buffer packed on a 16-byte boundary, as the schema asks (`force_align: 16`) and the
    converter writes it; the generated packer aligns to the element size only."""

    def Pack(self, builder):  # noqa: N802 - the generated API's name
        data = None
        if self.data is not None:
            payload = np.asarray(self.data, np.uint8).tobytes()
            builder.StartVector(1, len(payload), 16)
            builder.head -= len(payload)
            builder.Bytes[builder.head:builder.head + len(payload)] = payload
            data = builder.EndVector()
        schema.BufferStart(builder)
        if data is not None:
            schema.BufferAddData(builder, data)
        schema.BufferAddOffset(builder, self.offset)
        schema.BufferAddSize(builder, self.size)
        return schema.BufferEnd(builder)


def pack(flatbuffer, description):
    """The model with `description` as its TFLITE_METADATA buffer (replacing any) and its associated files
    zip-appended. The signatures, tensors and weights are written back unchanged."""
    metadata, _ = SCHEMA.encode(model_metadata(flatbuffer, description))
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    model.buffers = [_aligned(b) for b in model.buffers]
    model.metadata = [m for m in model.metadata or [] if m.name.decode() != BUFFER_NAME]
    entry = schema.MetadataT()
    entry.name, entry.buffer = BUFFER_NAME.encode(), len(model.buffers)
    model.buffers.append(_aligned(np.frombuffer(metadata, np.uint8)))
    model.metadata.append(entry)
    packed = io.BytesIO(bytes(flatbuffer_utils.convert_object_to_bytearray(model)))
    if description.files:
        packed.seek(0, io.SEEK_END)
        with zipfile.ZipFile(packed, "a", compression=zipfile.ZIP_STORED) as archive:
            for name, (content, _) in description.files.items():  # dated 1980 as zip allows: the same bytes each time
                archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), content)
    return packed.getvalue()


def _aligned(source):
    buffer = _AlignedBuffer()
    if isinstance(source, schema.BufferT):
        buffer.data, buffer.offset, buffer.size = source.data, source.offset, source.size
    else:
        buffer.data = source
    return buffer
