"""ONNX model metadata without the onnx package: ModelProto.metadata_props (field 14) entries
appended to a serialised model (protobuf merges fields appended to a message). Used by
bench/embed_torch.py and libs/encoders/test/fixtures/make_tiny_models.py."""


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def with_metadata(model: bytes, props: dict) -> bytes:
    """The model with `props` (key -> value strings) added to its metadata_props."""
    for key, value in props.items():
        entry = b"\x0a" + varint(len(key)) + key.encode() + b"\x12" + varint(len(value)) + value.encode()
        model += b"\x72" + varint(len(entry)) + entry
    return model
