// Writes the tiny ONNX graphs the ONNX Runtime peers run (bench/peers/graphs/*.onnx), with
// protobufjs and a hand-written subset of onnx.proto (field numbers as in onnx/onnx.proto).
//   npx tsx make-graphs.ts        (run.ts also calls makeGraphs() itself before every run)
//
// Every graph takes row-major [N, K] inputs with symbolic N and K (one graph serves every
// workload) and returns one scalar, "loss":
//   op1-sce-*   OP1  SoftmaxCrossEntropyLoss(logits, labels[N] int64, reduction="mean")
//   op1-lsm-*   OP1  -ReduceMean(GatherElements(LogSoftmax(logits, axis=1), labels[N,1] int64, axis=1))
//   op2-*       OP2  ReduceMean(ReduceSum(Softmax(t) * (LogSoftmax(t) - LogSoftmax(s)), axes=[1]))
//   op3-*       OP3  -ReduceMean(ReduceSum(targets * Log(probs), axes=[1]))
// in float32 (f32) and float64 (f64; OP3 is float32 only, as in the benchmark).
import protobuf from "protobufjs";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// The subset of onnx.proto (proto2) that a graph of standard operators needs.
const ONNX_PROTO = `
syntax = "proto2";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7; STRINGS = 8; }
  optional string name = 1;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
}
message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
}
message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
}
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
}
message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
}
message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/** TensorProto.DataType */
const FLOAT = 1,
  INT64 = 7,
  DOUBLE = 11;
/** AttributeProto.AttributeType */
const A_INT = 2,
  A_STRING = 3;
/** Opset 18: Reduce* take `axes` as an input; SoftmaxCrossEntropyLoss resolves to its opset-13 version. */
const OPSET = 18;
const IR_VERSION = 8;

const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
const ModelProto = root.lookupType("onnx.ModelProto");

type Dim = number | string;
const valueInfo = (name: string, elemType: number, dims: Dim[]) => ({
  name,
  type: {
    tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) } },
  },
});
const attrInt = (name: string, i: number) => ({ name, type: A_INT, i });
const attrStr = (name: string, s: string) => ({ name, type: A_STRING, s: Buffer.from(s, "utf8") });
let nodeCount = 0;
const node = (op_type: string, input: string[], output: string[], attribute: object[] = []) => ({
  op_type,
  input,
  output,
  attribute,
  name: `${op_type}_${nodeCount++}`,
});
const int64Tensor = (name: string, values: number[]) => ({ name, data_type: INT64, dims: [values.length], int64_data: values });

function model(name: string, doc: string, nodes: object[], inputs: object[], initializer: object[] = []): Uint8Array {
  const elem = name.endsWith("f64") ? DOUBLE : FLOAT;
  const msg = {
    ir_version: IR_VERSION,
    opset_import: [{ domain: "", version: OPSET }],
    producer_name: "xent-bench-peers",
    producer_version: "1",
    doc_string: doc,
    graph: { name, doc_string: doc, node: nodes, input: inputs, output: [valueInfo("loss", elem, [])], initializer },
  };
  const err = ModelProto.verify(msg);
  if (err) throw new Error(`${name}: ${err}`);
  return ModelProto.encode(ModelProto.create(msg)).finish();
}

/** name -> serialized ModelProto */
export function graphs(): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const [suffix, elem] of [
    ["f32", FLOAT],
    ["f64", DOUBLE],
  ] as const) {
    out[`op1-sce-${suffix}`] = model(
      `op1-sce-${suffix}`,
      "OP1: mean cross-entropy from logits with class indices, SoftmaxCrossEntropyLoss",
      [node("SoftmaxCrossEntropyLoss", ["logits", "labels"], ["loss"], [attrStr("reduction", "mean")])],
      [valueInfo("logits", elem, ["N", "K"]), valueInfo("labels", INT64, ["N"])],
    );
    out[`op1-lsm-${suffix}`] = model(
      `op1-lsm-${suffix}`,
      "OP1: mean cross-entropy from logits with class indices, LogSoftmax + GatherElements + ReduceMean + Neg",
      [
        node("LogSoftmax", ["logits"], ["logp"], [attrInt("axis", 1)]),
        node("GatherElements", ["logp", "labels"], ["picked"], [attrInt("axis", 1)]),
        node("ReduceMean", ["picked"], ["mean"], [attrInt("keepdims", 0)]),
        node("Neg", ["mean"], ["loss"]),
      ],
      [valueInfo("logits", elem, ["N", "K"]), valueInfo("labels", INT64, ["N", 1])],
    );
    out[`op2-${suffix}`] = model(
      `op2-${suffix}`,
      "OP2: mean over rows of KL(softmax(t) || softmax(s))",
      [
        node("LogSoftmax", ["t"], ["logpt"], [attrInt("axis", 1)]),
        node("Softmax", ["t"], ["pt"], [attrInt("axis", 1)]),
        node("LogSoftmax", ["s"], ["logps"], [attrInt("axis", 1)]),
        node("Sub", ["logpt", "logps"], ["diff"]),
        node("Mul", ["pt", "diff"], ["terms"]),
        node("ReduceSum", ["terms", "axes1"], ["rows"], [attrInt("keepdims", 0)]),
        node("ReduceMean", ["rows"], ["loss"], [attrInt("keepdims", 0)]),
      ],
      [valueInfo("t", elem, ["N", "K"]), valueInfo("s", elem, ["N", "K"])],
      [int64Tensor("axes1", [1])],
    );
  }
  out["op3-f32"] = model(
    "op3-f32",
    "OP3: mean cross-entropy of dense soft targets against probabilities",
    [
      node("Log", ["probs"], ["logq"]),
      node("Mul", ["targets", "logq"], ["terms"]),
      node("ReduceSum", ["terms", "axes1"], ["rows"], [attrInt("keepdims", 0)]),
      node("ReduceMean", ["rows"], ["mean"], [attrInt("keepdims", 0)]),
      node("Neg", ["mean"], ["loss"]),
    ],
    [valueInfo("targets", FLOAT, ["N", "K"]), valueInfo("probs", FLOAT, ["N", "K"])],
    [int64Tensor("axes1", [1])],
  );
  return out;
}

export const GRAPH_DIR = new URL("./graphs/", import.meta.url);

/** Writes every graph to bench/peers/graphs/<name>.onnx; returns name -> file path. */
export function makeGraphs(): Record<string, string> {
  mkdirSync(GRAPH_DIR, { recursive: true });
  const paths: Record<string, string> = {};
  for (const [name, bytes] of Object.entries(graphs())) {
    const file = new URL(`${name}.onnx`, GRAPH_DIR);
    writeFileSync(file, bytes);
    paths[name] = fileURLToPath(file);
  }
  return paths;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [name, path] of Object.entries(makeGraphs())) console.log(`${name}: ${path}`);
}
