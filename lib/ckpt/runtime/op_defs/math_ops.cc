// OpDefs of TensorFlow's math ops (core/ops/math_ops.cc), as the newest
// TensorFlow registers them. Where TensorFlow shares one dtype list among
// several ops, so do we.
#include <string>

#include "ckpt/runtime/op_defs/register.h"

namespace ckpt {
namespace runtime {

namespace {

constexpr char kUnaryTypes[] =
    "{bfloat16, half, float, double, int8, int16, int32, int64, complex64, complex128}";
constexpr char kUnaryComplexTypes[] = "{bfloat16, half, float, double, complex64, complex128}";
constexpr char kUnaryRealTypes[] = "{bfloat16, half, float, double}";
// Mul, Div, RealDiv, FloorDiv.
constexpr char kBinaryMoreTypes[] =
    "{bfloat16, half, float, double, uint8, int8, uint16, int16, int32, uint32, uint64, int64, "
    "complex64, complex128}";
constexpr char kMinMaxTypes[] =
    "{bfloat16, half, float, double, int8, uint8, int16, uint16, int32, uint32, int64, uint64}";
constexpr char kEqualityTypes[] =
    "{bfloat16, half, float, double, uint8, int8, int16, int32, int64, uint16, uint32, uint64, "
    "complex64, quint8, qint8, qint32, string, bool, complex128}";
// TensorFlow registered ArgMax/ArgMin over {numbertype, bool} for years, then
// dropped the complex types; we keep the wider set so that graphs written by
// every version validate.
constexpr char kArgMinMaxTypes[] = "{numbertype, bool}";

std::string T(const char* types) { return std::string("T: ") + types; }

OpDefBuilder Unary(const char* name, const char* types) {
  return OpDefBuilder(name).Input("x: T").Output("y: T").Attr(T(types));
}

OpDefBuilder Binary(const char* name, const char* types) {
  return OpDefBuilder(name).Input("x: T").Input("y: T").Output("z: T").Attr(T(types));
}

OpDefBuilder Comparison(const char* name, const char* types) {
  return OpDefBuilder(name).Input("x: T").Input("y: T").Output("z: bool").Attr(T(types));
}

OpDefBuilder Reduction(const char* name, const char* types) {
  return OpDefBuilder(name)
      .Input("input: T")
      .Input("reduction_indices: Tidx")
      .Output("output: T")
      .Attr("keep_dims: bool = false")
      .Attr(T(types))
      .Attr("Tidx: {int32, int64} = DT_INT32");
}

OpDefBuilder ArgReduction(const char* name) {
  return OpDefBuilder(name)
      .Input("input: T")
      .Input("dimension: Tidx")
      .Output("output: output_type")
      .Attr(T(kArgMinMaxTypes))
      .Attr("Tidx: {int16, int32, int64} = DT_INT32")
      .Attr("output_type: {int16, uint16, int32, int64} = DT_INT64");
}

}  // namespace

void RegisterMathOps(OpRegistry* r) {
  auto def = [r](const OpDefBuilder& b) { DefineBuiltinOp(r, b); };

  def(Binary("Add",
             "{bfloat16, half, float, double, uint8, int8, int16, int32, int64, "
             "complex64, complex128, string}"));
  def(Binary("AddV2",
             "{bfloat16, half, float, double, uint8, uint16, uint32, uint64, int8, "
             "int16, int32, int64, complex64, complex128}")
          .SetIsAggregate()
          .SetIsCommutative());
  def(OpDefBuilder("AddN")
          .Input("inputs: N * T")
          .Output("sum: T")
          .Attr("N: int >= 1")
          .Attr("T: {numbertype, variant}")
          .SetIsCommutative()
          .SetIsAggregate());
  def(Binary("Sub",
             "{bfloat16, half, float, double, uint8, int8, uint16, int16, int32, int64, "
             "complex64, complex128, uint32, uint64}"));
  def(Binary("Mul", kBinaryMoreTypes).SetIsCommutative());
  def(Binary("Div", kBinaryMoreTypes));
  def(Binary("RealDiv", kBinaryMoreTypes));
  def(Binary("FloorDiv", kBinaryMoreTypes));
  def(Binary("FloorMod",
             "{int8, int16, int32, int64, uint8, uint16, uint32, uint64, bfloat16, "
             "half, float, double}"));
  def(Binary("Maximum", kMinMaxTypes));
  def(Binary("Minimum", kMinMaxTypes));
  def(Binary("Pow",
             "{bfloat16, float, half, double, int8, int16, int32, int64, complex64, "
             "complex128}"));
  def(Binary("SquaredDifference",
             "{bfloat16, half, float, double, int32, int64, complex64, complex128}")
          .SetIsCommutative());

  def(Unary("Neg", kUnaryTypes));
  def(Unary("Square",
            "{bfloat16, half, float, double, int8, int16, int32, int64, uint8, uint16, "
            "uint32, uint64, complex64, complex128}"));
  def(Unary("Sqrt", kUnaryComplexTypes));
  def(Unary("Rsqrt", kUnaryComplexTypes));
  def(Unary("Reciprocal", kUnaryTypes));
  def(Unary("Exp", kUnaryComplexTypes));
  def(Unary("Log", kUnaryComplexTypes));
  def(Unary("Abs", "{bfloat16, half, float, double, int8, int16, int32, int64}"));
  def(Unary("Sign", kUnaryTypes));
  def(Unary("Floor", kUnaryRealTypes));
  def(Unary("Ceil", kUnaryRealTypes));
  // Round half to even; defined on integers too, where it is the identity.
  def(Unary("Round", kUnaryTypes));
  // The gradients take the forward output y and the incoming gradient dy,
  // not x, so the backward pass reuses what the forward pass computed.
  for (const char* op : {"SqrtGrad", "RsqrtGrad", "ReciprocalGrad"}) {
    def(OpDefBuilder(op).Input("y: T").Input("dy: T").Output("z: T").Attr(T(kUnaryComplexTypes)));
  }

  def(OpDefBuilder("MatMul")
          .Input("a: T")
          .Input("b: T")
          .Output("product: T")
          .Attr("transpose_a: bool = false")
          .Attr("transpose_b: bool = false")
          .Attr("T: {bfloat16, half, float, double, int32, int64, complex64, complex128}"));
  def(OpDefBuilder("Cast")
          .Input("x: SrcT")
          .Output("y: DstT")
          .Attr("SrcT: type")
          .Attr("DstT: type")
          .Attr("Truncate: bool = false"));

  for (const char* op : {"Equal", "NotEqual"}) {
    def(Comparison(op, kEqualityTypes)
            .Attr("incompatible_shape_error: bool = true")
            .SetIsCommutative());
  }
  for (const char* op : {"Greater", "GreaterEqual", "Less", "LessEqual"}) {
    def(Comparison(op, "realnumbertype"));
  }
  for (const char* op : {"LogicalAnd", "LogicalOr"}) {
    def(OpDefBuilder(op).Input("x: bool").Input("y: bool").Output("z: bool").SetIsCommutative());
  }
  def(OpDefBuilder("LogicalNot").Input("x: bool").Output("y: bool"));

  def(ArgReduction("ArgMax"));
  def(ArgReduction("ArgMin"));
  for (const char* op : {"Sum", "Mean", "Prod"}) def(Reduction(op, "numbertype"));
  for (const char* op : {"Max", "Min"}) def(Reduction(op, "{realnumbertype, quantizedtype}"));
  // The logical reductions: bool in and out, so no T attr.
  for (const char* op : {"All", "Any"}) {
    def(OpDefBuilder(op)
            .Input("input: bool")
            .Input("reduction_indices: Tidx")
            .Output("output: bool")
            .Attr("keep_dims: bool = false")
            .Attr("Tidx: {int32, int64} = DT_INT32"));
  }

  def(OpDefBuilder("Range")
          .Input("start: Tidx")
          .Input("limit: Tidx")
          .Input("delta: Tidx")
          .Output("output: Tidx")
          .Attr("Tidx: {bfloat16, half, float, double, int8, int16, int32, int64, uint16, uint32, "
                "uint64} = DT_INT32"));
  def(OpDefBuilder("Select")
          .Input("condition: bool")
          .Input("t: T")
          .Input("e: T")
          .Output("output: T")
          .Attr("T: type"));
  // Select with the condition broadcast against t and e (Select instead
  // takes a condition of t's shape or a vector over its first dimension).
  def(OpDefBuilder("SelectV2")
          .Input("condition: bool")
          .Input("t: T")
          .Input("e: T")
          .Output("output: T")
          .Attr("T: type"));
}

}  // namespace runtime
}  // namespace ckpt
