// The op registry: the OpDef spec language, node validation, and agreement
// with the OpDefs TensorFlow itself wrote into the graphs of the corpus.
#include "ckpt/runtime/op_registry.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ckpt/meta_graph.h"
#include "ckpt/runtime/kernel.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using ::google::protobuf::TextFormat;
using ::google::protobuf::util::MessageDifferencer;
using ::tensorflow::AttrValue;
using ::tensorflow::NodeDef;
using ::tensorflow::OpDef;

OpDef MustBuild(const OpDefBuilder& b) {
  auto op = b.Build();
  EXPECT_TRUE(op.ok()) << op.status();
  return op.ok() ? *op : OpDef();
}

const OpDef::AttrDef* AttrOf(const OpDef& op, const std::string& name) {
  for (const auto& a : op.attr()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

NodeDef ParseNode(const std::string& text) {
  NodeDef node;
  EXPECT_TRUE(TextFormat::ParseFromString(text, &node)) << text;
  return node;
}

OpDef ParseOpDef(const std::string& text) {
  OpDef op;
  EXPECT_TRUE(TextFormat::ParseFromString(text, &op)) << text;
  return op;
}

std::vector<int> Types(const AttrValue& allowed) {
  return {allowed.list().type().begin(), allowed.list().type().end()};
}

// ---- (a) the spec language -------------------------------------------------

TEST(OpDefBuilderTest, EachArgumentForm) {
  OpDef op = MustBuild(OpDefBuilder("Foo")
                           .Input("a: float")
                           .Input("b: T")
                           .Input("c: N * T")
                           .Input("d: N * string")
                           .Input("e: Tlist")
                           .Input("f: Ref(T)")
                           .Output("out: Ref(int64)")
                           .Attr("T: type")
                           .Attr("N: int >= 1")
                           .Attr("Tlist: list(type)"));
  ASSERT_EQ(op.input_arg_size(), 6);
  const auto& in = op.input_arg();
  EXPECT_EQ(in[0].name(), "a");
  EXPECT_EQ(in[0].type(), DT_FLOAT);
  EXPECT_TRUE(in[0].type_attr().empty());
  EXPECT_EQ(in[1].type_attr(), "T");
  EXPECT_EQ(in[1].type(), DT_INVALID);
  EXPECT_EQ(in[2].type_attr(), "T");
  EXPECT_EQ(in[2].number_attr(), "N");
  EXPECT_EQ(in[3].type(), DT_STRING);
  EXPECT_EQ(in[3].number_attr(), "N");
  EXPECT_EQ(in[4].type_list_attr(), "Tlist");
  EXPECT_TRUE(in[4].type_attr().empty());
  EXPECT_EQ(in[5].type_attr(), "T");
  EXPECT_TRUE(in[5].is_ref());
  EXPECT_FALSE(in[4].is_ref());
  ASSERT_EQ(op.output_arg_size(), 1);
  EXPECT_EQ(op.output_arg(0).type(), DT_INT64);
  EXPECT_TRUE(op.output_arg(0).is_ref());
  // Attrs keep their declared order.
  ASSERT_EQ(op.attr_size(), 3);
  EXPECT_EQ(op.attr(0).name(), "T");
  EXPECT_EQ(op.attr(1).name(), "N");
  EXPECT_EQ(op.attr(2).name(), "Tlist");
  EXPECT_EQ(op.attr(2).type(), "list(type)");
}

TEST(OpDefBuilderTest, EachAttrKindAndRestriction) {
  OpDef op = MustBuild(OpDefBuilder("Foo")
                           .Attr("s: string")
                           .Attr("i: int")
                           .Attr("f: float")
                           .Attr("b: bool")
                           .Attr("t: type")
                           .Attr("sh: shape")
                           .Attr("te: tensor")
                           .Attr("fn: func")
                           .Attr("li: list(int)")
                           .Attr("T: {float, int32}")
                           .Attr("padding: {'SAME', 'VALID'}")
                           .Attr("n: int >= 2")
                           .Attr("n0: int >= 0")
                           .Attr("lt: list({float, int64}) >= 1")
                           .Attr("neg: int >= -3"));
  const char* kinds[] = {"string", "int",    "float", "bool",       "type",
                         "shape",  "tensor", "func",  "list(int)",  "type",
                         "string", "int",    "int",   "list(type)", "int"};
  ASSERT_EQ(op.attr_size(), 15);
  for (int i = 0; i < op.attr_size(); ++i) EXPECT_EQ(op.attr(i).type(), kinds[i]) << i;
  for (int i = 0; i < 9; ++i) {
    EXPECT_FALSE(op.attr(i).has_allowed_values()) << i;
    EXPECT_FALSE(op.attr(i).has_minimum()) << i;
    EXPECT_FALSE(op.attr(i).has_default_value()) << i;
  }
  EXPECT_EQ(Types(AttrOf(op, "T")->allowed_values()), (std::vector<int>{DT_FLOAT, DT_INT32}));
  const auto& pad = AttrOf(op, "padding")->allowed_values().list().s();
  EXPECT_EQ(std::vector<std::string>(pad.begin(), pad.end()),
            (std::vector<std::string>{"SAME", "VALID"}));
  EXPECT_TRUE(AttrOf(op, "n")->has_minimum());
  EXPECT_EQ(AttrOf(op, "n")->minimum(), 2);
  EXPECT_TRUE(AttrOf(op, "n0")->has_minimum());
  EXPECT_EQ(AttrOf(op, "n0")->minimum(), 0);
  EXPECT_EQ(AttrOf(op, "neg")->minimum(), -3);
  EXPECT_EQ(AttrOf(op, "lt")->minimum(), 1);
  EXPECT_EQ(Types(AttrOf(op, "lt")->allowed_values()), (std::vector<int>{DT_FLOAT, DT_INT64}));
}

TEST(OpDefBuilderTest, TypeGroupsExpandInTensorFlowOrder) {
  OpDef op = MustBuild(OpDefBuilder("Foo")
                           .Attr("A: numbertype")
                           .Attr("B: realnumbertype")
                           .Attr("C: quantizedtype")
                           .Attr("D: {numbertype, variant}")
                           .Attr("E: {realnumbertype, qint8}"));
  const std::vector<int> number = {DT_FLOAT,      DT_DOUBLE,    DT_INT32,  DT_UINT8,   DT_INT16,
                                   DT_INT8,       DT_COMPLEX64, DT_INT64,  DT_QINT8,   DT_QUINT8,
                                   DT_QINT32,     DT_BFLOAT16,  DT_QINT16, DT_QUINT16, DT_UINT16,
                                   DT_COMPLEX128, DT_HALF,      DT_UINT32, DT_UINT64};
  const std::vector<int> real = {DT_FLOAT, DT_DOUBLE,   DT_INT32,  DT_UINT8, DT_INT16,  DT_INT8,
                                 DT_INT64, DT_BFLOAT16, DT_UINT16, DT_HALF,  DT_UINT32, DT_UINT64};
  EXPECT_EQ(Types(AttrOf(op, "A")->allowed_values()), number);
  EXPECT_EQ(Types(AttrOf(op, "B")->allowed_values()), real);
  EXPECT_EQ(Types(AttrOf(op, "C")->allowed_values()),
            (std::vector<int>{DT_QINT8, DT_QUINT8, DT_QINT32, DT_QINT16, DT_QUINT16}));
  std::vector<int> number_variant = number;
  number_variant.push_back(DT_VARIANT);
  EXPECT_EQ(Types(AttrOf(op, "D")->allowed_values()), number_variant);
  std::vector<int> real_qint8 = real;
  real_qint8.push_back(DT_QINT8);
  EXPECT_EQ(Types(AttrOf(op, "E")->allowed_values()), real_qint8);
  for (const auto& a : op.attr()) EXPECT_EQ(a.type(), "type") << a.name();
}

TEST(OpDefBuilderTest, DefaultsOfEachKind) {
  OpDef op = MustBuild(OpDefBuilder("Foo")
                           .Attr("b0: bool = false")
                           .Attr("b1: bool = true")
                           .Attr("i: int = -1")
                           .Attr("f: float = 1e-05")
                           .Attr("f2: float = 0.5")
                           .Attr("s: string = 'abc'")
                           .Attr("s_empty: string = ''")
                           .Attr("s_escaped: string = 'it\\'s'")
                           .Attr("s_dq: string = \"a=b\"")
                           .Attr("t: type = DT_FLOAT")
                           .Attr("t2: {int32, int64} = int64")
                           .Attr("sh_unknown: shape = { unknown_rank: true }")
                           .Attr("sh_scalar: shape = {}")
                           .Attr("sh_dims: shape = [2, -1]")
                           .Attr("li: list(int) = [1, 2, -3]")
                           .Attr("li_empty: list(int) >= 0 = []")
                           .Attr("ls: list(string) = ['a', 'b,c']")
                           .Attr("lt: list(type) = [DT_INT32, float]")
                           .Attr("lsh: list(shape) = [[1], { unknown_rank: true }]")
                           .Attr("te: tensor = { dtype: DT_INT32 int_val: 7 }")
                           .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
                           .Attr("n: int >= 2 = 3"));
  auto d = [&](const char* name) -> const AttrValue& {
    const OpDef::AttrDef* a = AttrOf(op, name);
    EXPECT_NE(a, nullptr) << name;
    EXPECT_TRUE(a->has_default_value()) << name;
    return a->default_value();
  };
  EXPECT_EQ(d("b0").value_case(), AttrValue::kB);
  EXPECT_FALSE(d("b0").b());
  EXPECT_TRUE(d("b1").b());
  EXPECT_EQ(d("i").i(), -1);
  EXPECT_EQ(d("f").f(), 1e-05f);
  EXPECT_EQ(d("f2").f(), 0.5f);
  EXPECT_EQ(d("s").s(), "abc");
  EXPECT_EQ(d("s_empty").value_case(), AttrValue::kS);
  EXPECT_EQ(d("s_empty").s(), "");
  EXPECT_EQ(d("s_escaped").s(), "it's");
  EXPECT_EQ(d("s_dq").s(), "a=b");
  EXPECT_EQ(d("t").type(), DT_FLOAT);
  EXPECT_EQ(d("t2").type(), DT_INT64);
  EXPECT_TRUE(d("sh_unknown").shape().unknown_rank());
  EXPECT_EQ(d("sh_unknown").shape().dim_size(), 0);
  EXPECT_EQ(d("sh_scalar").value_case(), AttrValue::kShape);
  EXPECT_FALSE(d("sh_scalar").shape().unknown_rank());
  EXPECT_EQ(d("sh_scalar").shape().dim_size(), 0);
  ASSERT_EQ(d("sh_dims").shape().dim_size(), 2);
  EXPECT_EQ(d("sh_dims").shape().dim(0).size(), 2);
  EXPECT_EQ(d("sh_dims").shape().dim(1).size(), -1);
  EXPECT_EQ(std::vector<int64_t>(d("li").list().i().begin(), d("li").list().i().end()),
            (std::vector<int64_t>{1, 2, -3}));
  // An empty list default is a present, empty list, as TensorFlow writes it.
  EXPECT_EQ(d("li_empty").value_case(), AttrValue::kList);
  EXPECT_EQ(d("li_empty").list().i_size(), 0);
  ASSERT_EQ(d("ls").list().s_size(), 2);
  EXPECT_EQ(d("ls").list().s(1), "b,c");
  EXPECT_EQ(std::vector<int>(d("lt").list().type().begin(), d("lt").list().type().end()),
            (std::vector<int>{DT_INT32, DT_FLOAT}));
  ASSERT_EQ(d("lsh").list().shape_size(), 2);
  EXPECT_EQ(d("lsh").list().shape(0).dim(0).size(), 1);
  EXPECT_TRUE(d("lsh").list().shape(1).unknown_rank());
  EXPECT_EQ(d("te").tensor().dtype(), DT_INT32);
  ASSERT_EQ(d("te").tensor().int_val_size(), 1);
  EXPECT_EQ(d("te").tensor().int_val(0), 7);
  EXPECT_EQ(d("data_format").s(), "NHWC");
  EXPECT_EQ(d("n").i(), 3);
}

TEST(OpDefBuilderTest, FlagsDeprecationAndImplicitCountMinimum) {
  OpDef op = MustBuild(OpDefBuilder("Foo")
                           .Input("x: N * T")
                           .Attr("N: int")
                           .Attr("T: type")
                           .SetIsStateful()
                           .SetIsCommutative()
                           .SetIsAggregate()
                           .SetAllowsUninitializedInput()
                           .Deprecated(26, "use Bar"));
  EXPECT_TRUE(op.is_stateful());
  EXPECT_TRUE(op.is_commutative());
  EXPECT_TRUE(op.is_aggregate());
  EXPECT_TRUE(op.allows_uninitialized_input());
  EXPECT_EQ(op.deprecation().version(), 26);
  EXPECT_EQ(op.deprecation().explanation(), "use Bar");
  // An int attr that counts an argument gets TensorFlow's minimum of 0.
  EXPECT_TRUE(AttrOf(op, "N")->has_minimum());
  EXPECT_EQ(AttrOf(op, "N")->minimum(), 0);

  OpDef plain = MustBuild(OpDefBuilder("Bar"));
  EXPECT_FALSE(plain.is_stateful());
  EXPECT_FALSE(plain.has_deprecation());
  EXPECT_EQ(plain.attr_size() + plain.input_arg_size() + plain.output_arg_size(), 0);
}

TEST(OpDefBuilderTest, MalformedSpecsAreInvalidArgumentNamingOpAndSpec) {
  struct Case {
    OpDefBuilder builder;
    std::string spec;   // expected in the message
    std::string cause;  // expected in the message
  };
  std::vector<Case> cases = {
      {OpDefBuilder("Foo").Attr("T type"), "T type", "expected 'name: type'"},
      {OpDefBuilder("Foo").Attr("T: integer"), "T: integer", "unknown attr type 'integer'"},
      {OpDefBuilder("Foo").Attr("T: {float, floaty}"), "T: {float, floaty}",
       "'floaty' is not a dtype"},
      {OpDefBuilder("Foo").Attr("T: {}"), "T: {}", "empty set"},
      {OpDefBuilder("Foo").Attr("T: {float, float}"), "T: {float, float}", "float is listed twice"},
      {OpDefBuilder("Foo").Attr("T: {float, 'A'}"), "T: {float, 'A'}", "mix"},
      {OpDefBuilder("Foo").Attr("s: string >= 1"), "s: string >= 1",
       "minimum applies to int and list"},
      {OpDefBuilder("Foo").Attr("l: list(int) >= -1"), "l: list(int) >= -1", "negative minimum"},
      {OpDefBuilder("Foo").Attr("n: int >= x"), "n: int >= x", "'x' is not an int minimum"},
      {OpDefBuilder("Foo").Attr("b: bool = 1"), "b: bool = 1", "'1' is not a bool"},
      {OpDefBuilder("Foo").Attr("i: int = 1.5"), "i: int = 1.5", "'1.5' is not an int"},
      {OpDefBuilder("Foo").Attr("s: string = abc"), "s: string = abc", "expected a quoted string"},
      {OpDefBuilder("Foo").Attr("s: string = 'abc"), "s: string = 'abc",
       "expected a quoted string"},
      {OpDefBuilder("Foo").Attr("t: type = DT_NOPE"), "t: type = DT_NOPE",
       "'DT_NOPE' is not a dtype"},
      {OpDefBuilder("Foo").Attr("t: type = DT_FLOAT_REF"), "t: type = DT_FLOAT_REF", "not a dtype"},
      {OpDefBuilder("Foo").Attr("T: {int32, int64} = DT_FLOAT"), "T: {int32, int64} = DT_FLOAT",
       "the default is not legal: attr 'T' is float, not one of {int32, int64}"},
      {OpDefBuilder("Foo").Attr("n: int >= 2 = 1"), "n: int >= 2 = 1", "below its minimum 2"},
      {OpDefBuilder("Foo").Attr("l: list(int) >= 1 = []"), "l: list(int) >= 1 = []",
       "fewer than its minimum 1"},
      {OpDefBuilder("Foo").Attr("l: list(int) = 3"), "l: list(int) = 3", "list default is written"},
      {OpDefBuilder("Foo").Attr("sh: shape = [2, x]"), "sh: shape = [2, x]", "is not a shape"},
      {OpDefBuilder("Foo").Attr("sh: shape = { rank: 3 }"), "sh: shape = { rank: 3 }",
       "as a TensorShapeProto (column 5: Message type \"tensorflow.TensorShapeProto\" has no field "
       "named \"rank\".)"},
      {OpDefBuilder("Foo").Attr("x: int ="), "x: int =", "'=' without a default"},
      {OpDefBuilder("Foo").Attr("2x: int"), "2x: int", "not an attr name"},
      {OpDefBuilder("Foo").Input("X: float"), "X: float", "not an argument name"},
      {OpDefBuilder("Foo").Input("x: T"), "x: T", "neither a dtype nor an attr"},
      {OpDefBuilder("Foo").Input("x: N * T").Attr("N: string").Attr("T: type"), "x: N * T",
       "must be an int attr"},
      {OpDefBuilder("Foo").Input("x: N").Attr("N: int"), "x: N", "attr 'N' is int"},
      {OpDefBuilder("Foo").Input("x").Attr("T: type"), "'x'", "expected 'name: type'"},
      {OpDefBuilder("Foo").Input("x: Ref()"), "x: Ref()", "missing the argument type"},
  };
  for (const Case& c : cases) {
    auto op = c.builder.Build();
    ASSERT_FALSE(op.ok()) << c.spec;
    EXPECT_EQ(op.status().code(), absl::StatusCode::kInvalidArgument) << op.status();
    EXPECT_TRUE(absl::StartsWith(op.status().message(), "OpDef Foo: ")) << op.status();
    EXPECT_TRUE(absl::StrContains(op.status().message(), c.spec)) << op.status();
    EXPECT_TRUE(absl::StrContains(op.status().message(), c.cause)) << op.status();
  }
}

TEST(OpDefBuilderTest, DuplicatesAndBadOpNamesAreRejected) {
  auto dup_attr = OpDefBuilder("Foo").Attr("T: type").Attr("T: int").Build();
  ASSERT_FALSE(dup_attr.ok());
  EXPECT_TRUE(absl::StrContains(dup_attr.status().message(), "attr 'T' is declared twice"))
      << dup_attr.status();
  auto dup_arg = OpDefBuilder("Foo").Input("x: float").Input("x: int32").Build();
  ASSERT_FALSE(dup_arg.ok());
  EXPECT_TRUE(absl::StrContains(dup_arg.status().message(), "argument 'x' is declared twice"))
      << dup_arg.status();
  auto bad_name = OpDefBuilder("Foo Bar").Build();
  ASSERT_FALSE(bad_name.ok());
  EXPECT_EQ(bad_name.status().code(), absl::StatusCode::kInvalidArgument);
}

// ---- the registry ------------------------------------------------------------

TEST(OpRegistryTest, RegisterFindLookupList) {
  OpRegistry r;
  ASSERT_TRUE(r.Register(OpDefBuilder("Zed").Input("x: float")).ok());
  ASSERT_TRUE(r.Register(OpDefBuilder("Alpha")).ok());
  absl::Status again = r.Register(OpDefBuilder("Zed"));
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  EXPECT_TRUE(absl::StrContains(again.message(), "'Zed'")) << again;
  absl::Status bad = r.Register(OpDefBuilder("Bad").Input("x: T"));
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument) << bad;

  ASSERT_NE(r.Find("Zed"), nullptr);
  EXPECT_EQ(r.Find("Zed")->input_arg(0).type(), DT_FLOAT);
  EXPECT_EQ(r.Find("zed"), nullptr);
  EXPECT_EQ(r.Find("Bad"), nullptr);
  EXPECT_EQ(r.ListOps(), (std::vector<std::string>{"Alpha", "Zed"}));

  auto found = r.Lookup("Alpha", "node_1");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ((*found)->name(), "Alpha");
  auto missing = r.Lookup("Foo", "bar");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "unknown op 'Foo' in node 'bar'");
  EXPECT_EQ(r.Lookup("Foo").status().message(), "unknown op 'Foo'");
}

TEST(OpRegistryTest, RegisterCheckedOpDefProtos) {
  OpRegistry r;
  OpDef dangling = ParseOpDef(R"pb(name: "Dangling"
                                   input_arg { name: "x" type_attr: "T" })pb");
  absl::Status s = r.Register(dangling);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "refers to attr 'T'")) << s;
  OpDef two_kinds = ParseOpDef(
      R"pb(name: "TwoKinds"
           input_arg { name: "x" type: DT_FLOAT type_attr: "T" }
           attr { name: "T" type: "type" })pb");
  EXPECT_EQ(r.Register(two_kinds).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.Register(OpDef()).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(r.ListOps().empty());
}

// Every op the runtime was asked to know, and no other.
TEST(OpRegistryTest, GlobalHoldsExactlyTheSupportedOps) {
  const std::set<std::string> expected = {
      // array
      "Const", "Placeholder", "PlaceholderWithDefault", "Identity", "Shape", "Size", "Rank",
      "Reshape", "Fill", "ZerosLike", "OnesLike", "Tile", "ConcatV2", "Concat", "Pack", "Unpack",
      "Slice", "StridedSlice", "ExpandDims", "Squeeze", "Transpose", "StopGradient",
      "BroadcastGradientArgs", "Gather", "GatherV2", "OneHot",
      // math
      "Add", "AddV2", "AddN", "Sub", "Mul", "RealDiv", "Div", "FloorDiv", "FloorMod", "Maximum",
      "Minimum", "Pow", "SquaredDifference", "Neg", "Square", "Sqrt", "Rsqrt", "Reciprocal", "Exp",
      "Log", "Abs", "Sign", "MatMul", "Cast", "Equal", "NotEqual", "Greater", "GreaterEqual",
      "Less", "LessEqual", "LogicalAnd", "LogicalOr", "LogicalNot", "ArgMax", "ArgMin", "Sum",
      "Mean", "Prod", "Max", "Min", "Range", "Select", "SelectV2", "All", "Any", "Floor", "Ceil",
      "Round", "SqrtGrad", "RsqrtGrad", "ReciprocalGrad",
      // nn
      "Relu", "ReluGrad", "Sigmoid", "SigmoidGrad", "Tanh", "TanhGrad", "Softmax", "LogSoftmax",
      "BiasAdd", "BiasAddV1", "BiasAddGrad", "SoftmaxCrossEntropyWithLogits",
      "SparseSoftmaxCrossEntropyWithLogits", "L2Loss",
      // state, random, training
      "Variable", "VariableV2", "Assign", "AssignAdd", "AssignSub", "IsVariableInitialized",
      "RandomStandardNormal", "TruncatedNormal", "RandomUniform", "ApplyGradientDescent",
      "ApplyMomentum", "ApplyAdam",
      // io
      "SaveV2", "RestoreV2", "MergeV2Checkpoints", "ShardedFilename", "ShardedFilespec", "Save",
      "SaveSlices", "Restore", "RestoreSlice",
      // misc
      "NoOp", "StringJoin", "ParseExample", "ParseExampleV2"};
  ASSERT_EQ(expected.size(), 116u);
  std::vector<std::string> listed = OpRegistry::Global().ListOps();
  EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end()));
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), expected);
  EXPECT_EQ(&OpRegistry::Global(), &OpRegistry::Global());
}

// A kernel without an OpDef could never run: graphs are validated against
// the OpDefs before any kernel is looked up.
TEST(OpRegistryTest, EveryKernelHasAnOpDef) {
  const std::vector<std::string> kernels = runtime::KernelRegistry::Global().ListOps();
  EXPECT_GE(kernels.size(), 100u);
  for (const std::string& op : kernels) {
    EXPECT_NE(OpRegistry::Global().Find(op), nullptr) << "kernel without an OpDef: " << op;
  }
}

// A few OpDefs written out field by field from TensorFlow's registrations:
// the spec strings must produce exactly these protos.
TEST(OpRegistryTest, GlobalOpDefsEqualTensorFlowsFieldByField) {
  const std::map<std::string, std::string> golden = {
      {"Unpack", R"pb(
         name: "Unpack"
         input_arg { name: "value" type_attr: "T" }
         output_arg { name: "output" type_attr: "T" number_attr: "num" }
         attr { name: "num" type: "int" has_minimum: true }
         attr { name: "T" type: "type" }
         attr {
           name: "axis"
           type: "int"
           default_value { i: 0 }
         })pb"},
      {"Squeeze", R"pb(
         name: "Squeeze"
         input_arg { name: "input" type_attr: "T" }
         output_arg { name: "output" type_attr: "T" }
         attr { name: "T" type: "type" }
         attr {
           name: "squeeze_dims"
           type: "list(int)"
           default_value { list {} }
           has_minimum: true
         })pb"},
      {"Placeholder", R"pb(
         name: "Placeholder"
         output_arg { name: "output" type_attr: "dtype" }
         attr { name: "dtype" type: "type" }
         attr {
           name: "shape"
           type: "shape"
           default_value { shape { unknown_rank: true } }
         })pb"},
      {"BiasAdd", R"pb(
         name: "BiasAdd"
         input_arg { name: "value" type_attr: "T" }
         input_arg { name: "bias" type_attr: "T" }
         output_arg { name: "output" type_attr: "T" }
         attr {
           name: "T"
           type: "type"
           allowed_values {
             list {
               type: [
                 DT_FLOAT,
                 DT_DOUBLE,
                 DT_INT32,
                 DT_UINT8,
                 DT_INT16,
                 DT_INT8,
                 DT_COMPLEX64,
                 DT_INT64,
                 DT_QINT8,
                 DT_QUINT8,
                 DT_QINT32,
                 DT_BFLOAT16,
                 DT_QINT16,
                 DT_QUINT16,
                 DT_UINT16,
                 DT_COMPLEX128,
                 DT_HALF,
                 DT_UINT32,
                 DT_UINT64
               ]
             }
           }
         }
         attr {
           name: "data_format"
           type: "string"
           default_value { s: "NHWC" }
           allowed_values { list { s: [ "NHWC", "NCHW" ] } }
         })pb"},
      {"Assign", R"pb(
         name: "Assign"
         input_arg { name: "ref" type_attr: "T" is_ref: true }
         input_arg { name: "value" type_attr: "T" }
         output_arg { name: "output_ref" type_attr: "T" is_ref: true }
         attr { name: "T" type: "type" }
         attr {
           name: "validate_shape"
           type: "bool"
           default_value { b: true }
         }
         attr {
           name: "use_locking"
           type: "bool"
           default_value { b: true }
         }
         allows_uninitialized_input: true)pb"},
      {"RestoreV2", R"pb(
         name: "RestoreV2"
         input_arg { name: "prefix" type: DT_STRING }
         input_arg { name: "tensor_names" type: DT_STRING }
         input_arg { name: "shape_and_slices" type: DT_STRING }
         output_arg { name: "tensors" type_list_attr: "dtypes" }
         attr { name: "dtypes" type: "list(type)" has_minimum: true minimum: 1 }
         is_stateful: true)pb"},
      {"All", R"pb(
         name: "All"
         input_arg { name: "input" type: DT_BOOL }
         input_arg { name: "reduction_indices" type_attr: "Tidx" }
         output_arg { name: "output" type: DT_BOOL }
         attr {
           name: "keep_dims"
           type: "bool"
           default_value { b: false }
         }
         attr {
           name: "Tidx"
           type: "type"
           default_value { type: DT_INT32 }
           allowed_values { list { type: [ DT_INT32, DT_INT64 ] } }
         })pb"},
      {"RsqrtGrad", R"pb(
         name: "RsqrtGrad"
         input_arg { name: "y" type_attr: "T" }
         input_arg { name: "dy" type_attr: "T" }
         output_arg { name: "z" type_attr: "T" }
         attr {
           name: "T"
           type: "type"
           allowed_values {
             list {
               type: [
                 DT_BFLOAT16,
                 DT_HALF,
                 DT_FLOAT,
                 DT_DOUBLE,
                 DT_COMPLEX64,
                 DT_COMPLEX128
               ]
             }
           }
         })pb"},
      {"L2Loss", R"pb(
         name: "L2Loss"
         input_arg { name: "t" type_attr: "T" }
         output_arg { name: "output" type_attr: "T" }
         attr {
           name: "T"
           type: "type"
           allowed_values { list { type: [ DT_HALF, DT_BFLOAT16, DT_FLOAT, DT_DOUBLE ] } }
         })pb"},
      {"AddV2", R"pb(
         name: "AddV2"
         input_arg { name: "x" type_attr: "T" }
         input_arg { name: "y" type_attr: "T" }
         output_arg { name: "z" type_attr: "T" }
         attr {
           name: "T"
           type: "type"
           allowed_values {
             list {
               type: [
                 DT_BFLOAT16,
                 DT_HALF,
                 DT_FLOAT,
                 DT_DOUBLE,
                 DT_UINT8,
                 DT_UINT16,
                 DT_UINT32,
                 DT_UINT64,
                 DT_INT8,
                 DT_INT16,
                 DT_INT32,
                 DT_INT64,
                 DT_COMPLEX64,
                 DT_COMPLEX128
               ]
             }
           }
         }
         is_aggregate: true
         is_commutative: true)pb"},
  };
  for (const auto& [name, text] : golden) {
    const OpDef* ours = OpRegistry::Global().Find(name);
    ASSERT_NE(ours, nullptr) << name;
    std::string diff;
    MessageDifferencer d;
    d.ReportDifferencesToString(&diff);
    EXPECT_TRUE(d.Compare(ParseOpDef(text), *ours)) << name << ":\n" << diff;
  }
}

// ---- (b) nodes ---------------------------------------------------------------

const OpDef& Global(const std::string& op) {
  const OpDef* def = OpRegistry::Global().Find(op);
  EXPECT_NE(def, nullptr) << op;
  static const OpDef kEmpty;
  return def != nullptr ? *def : kEmpty;
}

absl::StatusOr<NodeSignature> Check(const std::string& node_text, bool add_defaults = true) {
  NodeDef node = ParseNode(node_text);
  const OpDef& op = Global(node.op());
  if (add_defaults) AddDefaultAttrs(op, &node);
  return ValidateNode(op, node);
}

void ExpectInvalid(const absl::StatusOr<NodeSignature>& sig, const std::string& message) {
  ASSERT_FALSE(sig.ok()) << message;
  EXPECT_EQ(sig.status().code(), absl::StatusCode::kInvalidArgument) << sig.status();
  EXPECT_EQ(sig.status().message(), message);
}

TEST(ValidateNodeTest, AddDefaultAttrsFillsOnlyMissingAttrs) {
  NodeDef node = ParseNode(R"pb(
    name: "MatMul"
    op: "MatMul"
    input: "a"
    input: "b"
    attr {
      key: "T"
      value { type: DT_FLOAT }
    }
    attr {
      key: "transpose_b"
      value { b: true }
    })pb");
  AddDefaultAttrs(Global("MatMul"), &node);
  ASSERT_EQ(node.attr_size(), 3);
  EXPECT_FALSE(node.attr().at("transpose_a").b());
  EXPECT_TRUE(node.attr().at("transpose_b").b());  // kept
  EXPECT_EQ(node.attr().at("T").type(), DT_FLOAT);

  NodeDef ph = ParseNode(R"pb(name: "x"
                              op: "Placeholder"
                              attr {
                                key: "dtype"
                                value { type: DT_INT32 }
                              })pb");
  AddDefaultAttrs(Global("Placeholder"), &ph);
  EXPECT_TRUE(ph.attr().at("shape").shape().unknown_rank());
  // No default for an attr without one.
  NodeDef v = ParseNode(R"pb(name: "v" op: "VariableV2")pb");
  AddDefaultAttrs(Global("VariableV2"), &v);
  EXPECT_EQ(v.attr().count("shape"), 0u);
  EXPECT_EQ(v.attr().count("dtype"), 0u);
  EXPECT_EQ(v.attr().at("container").s(), "");
  EXPECT_EQ(v.attr().at("shared_name").s(), "");
}

TEST(ValidateNodeTest, MatMulSignatureWithControlInputsAndInternalAttrs) {
  auto sig = Check(R"pb(
    name: "MatMul_1"
    op: "MatMul"
    input: "a"
    input: "b:1"
    input: "^init"
    input: "^c"
    attr {
      key: "T"
      value { type: DT_FLOAT }
    }
    attr {
      key: "_class"
      value { list { s: "loc:@a" } }
    }
    attr {
      key: "_output_shapes"
      value { list { shape {} } }
    })pb");
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->input_types, (std::vector<DType>{DT_FLOAT, DT_FLOAT}));
  EXPECT_EQ(sig->input_is_ref, (std::vector<bool>{false, false}));
  EXPECT_EQ(sig->output_types, (std::vector<DType>{DT_FLOAT}));
  EXPECT_EQ(sig->output_is_ref, (std::vector<bool>{false}));
}

TEST(ValidateNodeTest, EachAttrError) {
  // Without defaults, transpose_a is missing.
  ExpectInvalid(Check(R"pb(name: "MatMul_1"
                           op: "MatMul"
                           input: "a"
                           input: "b"
                           attr {
                             key: "T"
                             value { type: DT_FLOAT }
                           })pb",
                      /*add_defaults=*/false),
                "node 'MatMul_1' (op MatMul): missing attr 'transpose_a'");
  ExpectInvalid(Check(R"pb(name: "MatMul_1" op: "MatMul" input: "a" input: "b")pb"),
                "node 'MatMul_1' (op MatMul): missing attr 'T'");
  ExpectInvalid(Check(R"pb(name: "MatMul_1"
                           op: "MatMul"
                           input: "a"
                           input: "b"
                           attr {
                             key: "T"
                             value { type: DT_STRING }
                           })pb"),
                "node 'MatMul_1' (op MatMul): attr 'T' is string, not one of {bfloat16, half, "
                "float, double, int32, int64, complex64, complex128}");
  ExpectInvalid(Check(R"pb(name: "MatMul_1"
                           op: "MatMul"
                           input: "a"
                           input: "b"
                           attr {
                             key: "T"
                             value { i: 1 }
                           })pb"),
                "node 'MatMul_1' (op MatMul): attr 'T' holds a value of kind int, but the op "
                "declares it type");
  ExpectInvalid(Check(R"pb(name: "m"
                           op: "MatMul"
                           input: "a"
                           input: "b"
                           attr {
                             key: "T"
                             value { type: DT_FLOAT_REF }
                           })pb"),
                "node 'm' (op MatMul): attr 'T' is float_ref, not a value dtype");
  ExpectInvalid(Check(R"pb(name: "m"
                           op: "MatMul"
                           input: "a"
                           input: "b"
                           attr {
                             key: "T"
                             value { type: DT_FLOAT }
                           }
                           attr {
                             key: "transpose_c"
                             value { b: true }
                           })pb"),
                "node 'm' (op MatMul): attr 'transpose_c' is not an attr of MatMul");
  ExpectInvalid(Check(R"pb(name: "concat"
                           op: "ConcatV2"
                           input: "a"
                           input: "axis"
                           attr {
                             key: "N"
                             value { i: 1 }
                           }
                           attr {
                             key: "T"
                             value { type: DT_FLOAT }
                           })pb"),
                "node 'concat' (op ConcatV2): attr 'N' is 1, below its minimum 2");
  ExpectInvalid(Check(R"pb(name: "b"
                           op: "BiasAdd"
                           input: "v"
                           input: "bias"
                           attr {
                             key: "T"
                             value { type: DT_FLOAT }
                           }
                           attr {
                             key: "data_format"
                             value { s: "NCWH" }
                           })pb"),
                "node 'b' (op BiasAdd): attr 'data_format' is 'NCWH', not one of {'NHWC', "
                "'NCHW'}");
  ExpectInvalid(Check(R"pb(name: "save"
                           op: "SaveV2"
                           input: "p"
                           input: "n"
                           input: "s"
                           attr {
                             key: "dtypes"
                             value { list {} }
                           })pb"),
                "node 'save' (op SaveV2): attr 'dtypes' has 0 element(s), fewer than its "
                "minimum 1");
  ExpectInvalid(Check(R"pb(name: "save"
                           op: "SaveV2"
                           input: "p"
                           input: "n"
                           input: "s"
                           input: "t"
                           attr {
                             key: "dtypes"
                             value { list { i: 1 } }
                           })pb"),
                "node 'save' (op SaveV2): attr 'dtypes' is a list of int, but the op declares "
                "it list(type)");
  ExpectInvalid(Check(R"pb(name: "save"
                           op: "SaveV2"
                           input: "p"
                           input: "n"
                           input: "s"
                           input: "t"
                           attr {
                             key: "dtypes"
                             value { type: DT_FLOAT }
                           })pb"),
                "node 'save' (op SaveV2): attr 'dtypes' holds a value of kind type, but the op "
                "declares it list(type)");
  ExpectInvalid(Check(R"pb(name: "p"
                           op: "ParseExample"
                           attr {
                             key: "Nsparse"
                             value { i: 0 }
                           }
                           attr {
                             key: "Ndense"
                             value { i: 0 }
                           }
                           attr {
                             key: "sparse_types"
                             value { list { type: DT_INT32 } }
                           }
                           attr {
                             key: "Tdense"
                             value { list {} }
                           }
                           attr {
                             key: "dense_shapes"
                             value { list {} }
                           })pb"),
                "node 'p' (op ParseExample): attr 'sparse_types' element 0 is int32, not one of "
                "{float, int64, string}");
}

TEST(ValidateNodeTest, InputCountsAndOrder) {
  ExpectInvalid(Check(R"pb(name: "add"
                           op: "Add"
                           input: "a"
                           input: "^b"
                           attr {
                             key: "T"
                             value { type: DT_FLOAT }
                           })pb"),
                "node 'add' (op Add): has 1 data input(s), but the op's arguments (x, y) take 2");
  ExpectInvalid(Check(R"pb(name: "add"
                           op: "Add"
                           input: "a"
                           input: "b"
                           input: "c"
                           attr {
                             key: "T"
                             value { type: DT_FLOAT }
                           })pb"),
                "node 'add' (op Add): has 3 data input(s), but the op's arguments (x, y) take 2");
  ExpectInvalid(Check(R"pb(name: "add"
                           op: "Add"
                           input: "a"
                           input: "^c"
                           input: "b"
                           attr {
                             key: "T"
                             value { type: DT_FLOAT }
                           })pb"),
                "node 'add' (op Add): data input 'b' comes after a control input");
  auto sub_ok = Check(R"pb(name: "s"
                           op: "Sub"
                           input: "a"
                           input: "b:0"
                           attr {
                             key: "T"
                             value { type: DT_UINT32 }
                           })pb");
  ASSERT_TRUE(sub_ok.ok()) << sub_ok.status();
  EXPECT_EQ(sub_ok->input_types, (std::vector<DType>{DT_UINT32, DT_UINT32}));
  NodeDef sub = ParseNode(R"pb(name: "s"
                               op: "Sub"
                               input: "a"
                               input: "b"
                               attr {
                                 key: "T"
                                 value { type: DT_FLOAT }
                               })pb");
  ExpectInvalid(ValidateNode(Global("Add"), sub), "node 's' (op Add): the node's op is 'Sub'");
  auto no_op = Check(R"pb(name: "init" op: "NoOp" input: "^a" input: "^b")pb");
  ASSERT_TRUE(no_op.ok()) << no_op.status();
  EXPECT_TRUE(no_op->input_types.empty());
  EXPECT_TRUE(no_op->output_types.empty());
}

TEST(ValidateNodeTest, NumberTypeListAndRefArguments) {
  auto concat = Check(R"pb(name: "concat"
                           op: "ConcatV2"
                           input: "a"
                           input: "b"
                           input: "c"
                           input: "axis"
                           attr {
                             key: "N"
                             value { i: 3 }
                           }
                           attr {
                             key: "T"
                             value { type: DT_DOUBLE }
                           }
                           attr {
                             key: "Tidx"
                             value { type: DT_INT64 }
                           })pb");
  ASSERT_TRUE(concat.ok()) << concat.status();
  EXPECT_EQ(concat->input_types, (std::vector<DType>{DT_DOUBLE, DT_DOUBLE, DT_DOUBLE, DT_INT64}));
  EXPECT_EQ(concat->output_types, (std::vector<DType>{DT_DOUBLE}));

  auto save = Check(R"pb(name: "save/SaveV2"
                         op: "SaveV2"
                         input: "p"
                         input: "n"
                         input: "s"
                         input: "w"
                         input: "step"
                         attr {
                           key: "dtypes"
                           value { list { type: DT_FLOAT type: DT_INT64 } }
                         })pb");
  ASSERT_TRUE(save.ok()) << save.status();
  EXPECT_EQ(save->input_types,
            (std::vector<DType>{DT_STRING, DT_STRING, DT_STRING, DT_FLOAT, DT_INT64}));
  EXPECT_TRUE(save->output_types.empty());

  auto restore = Check(R"pb(name: "r"
                            op: "RestoreV2"
                            input: "p"
                            input: "n"
                            input: "s"
                            attr {
                              key: "dtypes"
                              value { list { type: DT_INT32 type: DT_BOOL type: DT_STRING } }
                            })pb");
  ASSERT_TRUE(restore.ok()) << restore.status();
  EXPECT_EQ(restore->output_types, (std::vector<DType>{DT_INT32, DT_BOOL, DT_STRING}));
  EXPECT_EQ(restore->output_is_ref, (std::vector<bool>{false, false, false}));

  auto assign = Check(R"pb(name: "Variable/Assign"
                           op: "Assign"
                           input: "Variable"
                           input: "init"
                           attr {
                             key: "T"
                             value { type: DT_FLOAT }
                           })pb");
  ASSERT_TRUE(assign.ok()) << assign.status();
  EXPECT_EQ(assign->input_types, (std::vector<DType>{DT_FLOAT, DT_FLOAT}));
  EXPECT_EQ(assign->input_is_ref, (std::vector<bool>{true, false}));
  EXPECT_EQ(assign->output_is_ref, (std::vector<bool>{true}));

  auto var = Check(R"pb(name: "Variable"
                        op: "VariableV2"
                        attr {
                          key: "dtype"
                          value { type: DT_INT64 }
                        }
                        attr {
                          key: "shape"
                          value { shape { dim { size: 2 } } }
                        })pb");
  ASSERT_TRUE(var.ok()) << var.status();
  EXPECT_EQ(var->output_types, (std::vector<DType>{DT_INT64}));
  EXPECT_EQ(var->output_is_ref, (std::vector<bool>{true}));

  auto adam = Check(R"pb(name: "a"
                         op: "ApplyAdam"
                         input: "var"
                         input: "m"
                         input: "v"
                         input: "b1p"
                         input: "b2p"
                         input: "lr"
                         input: "b1"
                         input: "b2"
                         input: "eps"
                         input: "g"
                         attr {
                           key: "T"
                           value { type: DT_FLOAT }
                         })pb");
  ASSERT_TRUE(adam.ok()) << adam.status();
  EXPECT_EQ(adam->input_is_ref,
            (std::vector<bool>{true, true, true, false, false, false, false, false, false, false}));

  auto unpack = Check(R"pb(name: "u"
                           op: "Unpack"
                           input: "x"
                           attr {
                             key: "num"
                             value { i: 3 }
                           }
                           attr {
                             key: "T"
                             value { type: DT_HALF }
                           })pb");
  ASSERT_TRUE(unpack.ok()) << unpack.status();
  EXPECT_EQ(unpack->output_types, (std::vector<DType>{DT_HALF, DT_HALF, DT_HALF}));

  // Two sparse features and two dense ones: 2 + 2 + 2 + 2 inputs, 2 + 2 + 2 + 2 outputs.
  auto parse = Check(R"pb(name: "pe"
                          op: "ParseExample"
                          input: "ser"
                          input: "names"
                          input: "sk0"
                          input: "sk1"
                          input: "dk0"
                          input: "dk1"
                          input: "dd0"
                          input: "dd1"
                          attr {
                            key: "Nsparse"
                            value { i: 2 }
                          }
                          attr {
                            key: "Ndense"
                            value { i: 2 }
                          }
                          attr {
                            key: "sparse_types"
                            value { list { type: DT_INT64 type: DT_STRING } }
                          }
                          attr {
                            key: "Tdense"
                            value { list { type: DT_FLOAT type: DT_STRING } }
                          }
                          attr {
                            key: "dense_shapes"
                            value {
                              list {
                                shape { dim { size: 1 } }
                                shape {}
                              }
                            }
                          })pb");
  ASSERT_TRUE(parse.ok()) << parse.status();
  EXPECT_EQ(parse->input_types, (std::vector<DType>{DT_STRING, DT_STRING, DT_STRING, DT_STRING,
                                                    DT_STRING, DT_STRING, DT_FLOAT, DT_STRING}));
  EXPECT_EQ(parse->output_types, (std::vector<DType>{DT_INT64, DT_INT64, DT_INT64, DT_STRING,
                                                     DT_INT64, DT_INT64, DT_FLOAT, DT_STRING}));
}

TEST(ValidateNodeTest, HostileCountsAreErrorsNotAllocations) {
  ExpectInvalid(Check(R"pb(name: "u"
                           op: "Unpack"
                           input: "x"
                           attr {
                             key: "num"
                             value { i: 1099511627776 }
                           }
                           attr {
                             key: "T"
                             value { type: DT_FLOAT }
                           })pb"),
                "node 'u' (op Unpack): attr 'num' is 1099511627776, outside [0, 1048576] for "
                "argument 'output'");
  ExpectInvalid(Check(R"pb(name: "u"
                           op: "Unpack"
                           input: "x"
                           attr {
                             key: "num"
                             value { i: -1 }
                           }
                           attr {
                             key: "T"
                             value { type: DT_FLOAT }
                           })pb"),
                "node 'u' (op Unpack): attr 'num' is -1, below its minimum 0");
  // A node name with control bytes is escaped in the message.
  ExpectInvalid(Check("name: \"a\\033[31m\" op: \"Add\" input: \"x\" input: \"y\""),
                "node 'a\\x1b[31m' (op Add): missing attr 'T'");
}

// ---- (c) and (d) against TensorFlow's own graphs -------------------------------

struct CorpusGraph {
  std::string name;
  int producer = 0;
  ::tensorflow::OpList ops;
  ::tensorflow::GraphDef graph;
};

std::vector<CorpusGraph> LoadCorpus(const std::string& dir) {
  std::vector<CorpusGraph> out;
  for (const char* meta :
       {"udacity_save_restore/model.ckpt.meta", "udacity_save_restore/train_model.ckpt.meta",
        "v1_half_plus_two/export.meta"}) {
    auto mg = ReadMetaGraph(absl::StrCat(dir, "/", meta));
    EXPECT_TRUE(mg.ok()) << mg.status();
    if (!mg.ok()) continue;
    out.push_back({meta, mg->graph_def().versions().producer(),
                   mg->meta_info_def().stripped_op_list(), mg->graph_def()});
  }
  auto sm = ReadSavedModel(absl::StrCat(dir, "/saved_model_half_plus_two"));
  EXPECT_TRUE(sm.ok()) << sm.status();
  if (sm.ok()) {
    for (const auto& mg : sm->meta_graphs()) {
      out.push_back({"saved_model_half_plus_two", mg.graph_def().versions().producer(),
                     mg.meta_info_def().stripped_op_list(), mg.graph_def()});
    }
  }
  return out;
}

// Differences between TensorFlow's OpDef (from a graph written by some
// TensorFlow version) and ours (the newest). TensorFlow's own compatibility
// rules allow an op to grow: new attrs with defaults, longer allowed-type
// lists, a lower minimum, a fixed dtype turned into a type attr defaulting
// to it. Anything else is a difference.
std::vector<std::string> CompareWithTensorFlow(const OpDef& theirs, const OpDef& ours,
                                               int producer) {
  std::vector<std::string> diffs;
  auto diff = [&](const std::string& what) {
    diffs.push_back(absl::StrCat(theirs.name(), ": ", what));
  };
  auto compare_args = [&](const char* kind, const auto& t, const auto& o) {
    if (t.size() != o.size()) {
      diff(absl::StrCat(o.size(), " ", kind, "s, TensorFlow has ", t.size()));
      return;
    }
    for (int i = 0; i < t.size(); ++i) {
      const std::string where = absl::StrCat(kind, " ", i, " '", t[i].name(), "'");
      if (t[i].name() != o[i].name()) diff(absl::StrCat(where, " is named '", o[i].name(), "'"));
      if (t[i].is_ref() != o[i].is_ref()) diff(absl::StrCat(where, ": is_ref differs"));
      if (t[i].number_attr() != o[i].number_attr())
        diff(absl::StrCat(where, ": number_attr differs"));
      if (t[i].type_list_attr() != o[i].type_list_attr()) {
        diff(absl::StrCat(where, ": type_list_attr differs"));
      }
      if (t[i].type() == o[i].type() && t[i].type_attr() == o[i].type_attr()) continue;
      const OpDef::AttrDef* widened = AttrOf(ours, o[i].type_attr());
      const bool ok = t[i].type() != DT_INVALID && widened != nullptr &&
                      AttrOf(theirs, o[i].type_attr()) == nullptr && widened->has_default_value() &&
                      widened->default_value().type() == t[i].type();
      if (!ok) diff(absl::StrCat(where, ": type/type_attr differs"));
    }
  };
  compare_args("input", theirs.input_arg(), ours.input_arg());
  compare_args("output", theirs.output_arg(), ours.output_arg());

  for (const auto& ta : theirs.attr()) {
    const OpDef::AttrDef* oa = AttrOf(ours, ta.name());
    if (oa == nullptr) {
      diff(absl::StrCat("no attr '", ta.name(), "'"));
      continue;
    }
    const std::string where = absl::StrCat("attr '", ta.name(), "'");
    if (ta.type() != oa->type()) diff(absl::StrCat(where, " is ", oa->type(), ", not ", ta.type()));
    if (ta.has_default_value() != oa->has_default_value()) {
      diff(absl::StrCat(where, ": one side has a default"));
    } else if (ta.has_default_value() &&
               !MessageDifferencer::Equals(ta.default_value(), oa->default_value())) {
      // Before GraphDef version 22 a Placeholder of unknown shape was written
      // with the empty shape; the default changed with that meaning.
      const bool old_placeholder = theirs.name() == "Placeholder" && ta.name() == "shape" &&
                                   producer < 22 && ta.default_value().shape().dim_size() == 0 &&
                                   !ta.default_value().shape().unknown_rank() &&
                                   oa->default_value().shape().unknown_rank();
      if (!old_placeholder) {
        diff(absl::StrCat(where, ": default ", oa->default_value().ShortDebugString(),
                          ", TensorFlow's ", ta.default_value().ShortDebugString()));
      }
    }
    if (ta.has_allowed_values()) {
      if (oa->has_allowed_values()) {
        const auto& ol = oa->allowed_values().list();
        for (int t : ta.allowed_values().list().type()) {
          if (std::find(ol.type().begin(), ol.type().end(), t) == ol.type().end()) {
            diff(absl::StrCat(where, " does not allow ", DTypeName(static_cast<DType>(t))));
          }
        }
        for (const std::string& s : ta.allowed_values().list().s()) {
          if (std::find(ol.s().begin(), ol.s().end(), s) == ol.s().end()) {
            diff(absl::StrCat(where, " does not allow '", s, "'"));
          }
        }
      }
    } else if (oa->has_allowed_values()) {
      diff(absl::StrCat(where, " is restricted; TensorFlow's is not"));
    }
    if (oa->has_minimum() && (!ta.has_minimum() || oa->minimum() > ta.minimum())) {
      diff(absl::StrCat(where, ": minimum ", oa->minimum(), " exceeds TensorFlow's"));
    }
  }
  for (const auto& oa : ours.attr()) {
    if (AttrOf(theirs, oa.name()) == nullptr && !oa.has_default_value()) {
      diff(absl::StrCat("our attr '", oa.name(), "' is new but has no default"));
    }
  }
  if (theirs.allows_uninitialized_input() != ours.allows_uninitialized_input()) {
    diff("allows_uninitialized_input differs");
  }
  return diffs;
}

// The comparison the corpus test relies on: it accepts TensorFlow's allowed
// ways for an op to grow and names every other difference.
TEST(OpRegistryCorpusTest, CompatibilityCheckAcceptsGrowthAndNamesDifferences) {
  const OpDef ours = MustBuild(OpDefBuilder("Foo")
                                   .Input("x: T")
                                   .Input("dims: index_type")
                                   .Output("y: T")
                                   .Attr("T: {float, double}")
                                   .Attr("index_type: {int32, int64} = DT_INT32")
                                   .Attr("n: int >= 1 = 2")
                                   .Attr("grown: bool = false"));
  // clang-format off (the mutations below edit this text)
  const std::string older = R"pb(
    name: "Foo"
    input_arg { name: "x" type_attr: "T" }
    input_arg { name: "dims" type: DT_INT32 }
    output_arg { name: "y" type_attr: "T" }
    attr { name: "T" type: "type" allowed_values { list { type: DT_FLOAT } } }
    attr { name: "n" type: "int" default_value { i: 2 } has_minimum: true minimum: 2 })pb";
  // clang-format on
  EXPECT_TRUE(CompareWithTensorFlow(ParseOpDef(older), ours, 30).empty());

  struct Mutation {
    std::string from, to, expected;
  };
  const std::vector<Mutation> mutations = {
      {"type: DT_FLOAT }", "type: DT_FLOAT type: DT_HALF }", "attr 'T' does not allow float16"},
      {"name: \"x\"", "name: \"a\"", "input 0 'a' is named 'x'"},
      {"i: 2", "i: 3", "attr 'n': default i: 2, TensorFlow's i: 3"},
      {"type: DT_INT32 }", "type: DT_INT64 }", "input 1 'dims': type/type_attr differs"},
      {"minimum: 2", "minimum: 0", "attr 'n': minimum 1 exceeds TensorFlow's"},
      {"name: \"T\" type: \"type\"", "name: \"U\" type: \"type\"", "no attr 'U'"},
      {"output_arg { name: \"y\" type_attr: \"T\" }",
       "output_arg { name: \"y\" type_attr: \"T\" } output_arg { name: \"z\" type: DT_BOOL }",
       "1 outputs, TensorFlow has 2"},
  };
  for (const Mutation& m : mutations) {
    std::string text = older;
    const size_t at = text.find(m.from);
    ASSERT_NE(at, std::string::npos) << m.from;
    text.replace(at, m.from.size(), m.to);
    const std::vector<std::string> diffs = CompareWithTensorFlow(ParseOpDef(text), ours, 30);
    const bool found = std::any_of(diffs.begin(), diffs.end(), [&](const std::string& d) {
      return absl::StrContains(d, m.expected);
    });
    EXPECT_TRUE(found) << m.expected << " not in: " << absl::StrJoin(diffs, " | ");
  }
  // A new attr needs a default.
  OpDef strict = ours;
  strict.mutable_attr(3)->clear_default_value();
  const auto diffs = CompareWithTensorFlow(ParseOpDef(older), strict, 30);
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0], "Foo: our attr 'grown' is new but has no default");
}

TEST(OpRegistryCorpusTest, OurOpDefsAgreeWithTensorFlowWrittenOpLists) {
  CKPT_REQUIRE_CORPUS(corpus);
  std::vector<CorpusGraph> graphs = LoadCorpus(corpus);
  ASSERT_EQ(graphs.size(), 4u);
  std::set<std::string> compared;
  for (const CorpusGraph& g : graphs) {
    ASSERT_GT(g.ops.op_size(), 0) << g.name;
    std::vector<std::string> names;
    for (const OpDef& theirs : g.ops.op()) {
      names.push_back(theirs.name());
      const OpDef* ours = OpRegistry::Global().Find(theirs.name());
      ASSERT_NE(ours, nullptr) << g.name << ": no OpDef for " << theirs.name();
      for (const std::string& d : CompareWithTensorFlow(theirs, *ours, g.producer)) {
        ADD_FAILURE() << g.name << " (producer " << g.producer << "): " << d;
      }
      compared.insert(theirs.name());
    }
    std::cout << "[ compared ] " << g.name << " (producer " << g.producer
              << "): " << absl::StrJoin(names, ", ") << "\n";
  }
  std::cout << "[ compared ] " << compared.size() << " distinct ops\n";
  // The ops the corpus uses, by the listing of its stripped_op_lists.
  EXPECT_EQ(compared.size(), 43u);
}

// What import does to every node: fill defaults, validate against our
// OpDef. Then the signatures must fit TensorFlow's own wiring and its
// recorded output shapes.
TEST(OpRegistryCorpusTest, EveryCorpusNodeValidatesAgainstOurOpDefs) {
  CKPT_REQUIRE_CORPUS(corpus);
  std::vector<CorpusGraph> graphs = LoadCorpus(corpus);
  ASSERT_EQ(graphs.size(), 4u);
  for (const CorpusGraph& g : graphs) {
    std::map<std::string, NodeSignature> sigs;
    int with_shapes = 0;
    for (const NodeDef& node : g.graph.node()) {
      const OpDef* op = OpRegistry::Global().Find(node.op());
      ASSERT_NE(op, nullptr) << g.name << ": " << node.name() << " uses " << node.op();
      NodeDef copy = node;
      AddDefaultAttrs(*op, &copy);
      auto sig = ValidateNode(*op, copy);
      ASSERT_TRUE(sig.ok()) << g.name << ": " << sig.status();
      auto shapes = node.attr().find("_output_shapes");
      if (shapes != node.attr().end()) {
        ++with_shapes;
        EXPECT_EQ(static_cast<size_t>(shapes->second.list().shape_size()), sig->output_types.size())
            << g.name << ": " << node.name();
      }
      sigs[node.name()] = *std::move(sig);
    }
    int edges = 0;
    for (const NodeDef& node : g.graph.node()) {
      const NodeSignature& dst = sigs[node.name()];
      int i = 0;
      for (const std::string& in : node.input()) {
        if (absl::StartsWith(in, "^")) continue;
        std::string src = in;
        int index = 0;
        const size_t colon = in.rfind(':');
        if (colon != std::string::npos) {
          ASSERT_TRUE(absl::SimpleAtoi(in.substr(colon + 1), &index)) << in;
          src = in.substr(0, colon);
        }
        ASSERT_EQ(sigs.count(src), 1u) << g.name << ": " << node.name() << " <- " << in;
        const NodeSignature& from = sigs[src];
        ASSERT_LT(static_cast<size_t>(index), from.output_types.size()) << in;
        EXPECT_EQ(from.output_types[index], dst.input_types[i])
            << g.name << ": " << in << " -> " << node.name() << " input " << i;
        if (dst.input_is_ref[i]) {
          EXPECT_TRUE(from.output_is_ref[index]) << in << " -> " << node.name() << " needs a ref";
        }
        ++edges;
        ++i;
      }
    }
    std::cout << "[ validated ] " << g.name << ": " << g.graph.node_size() << " nodes, " << edges
              << " typed edges, " << with_shapes << " with recorded output shapes\n";
    EXPECT_GT(with_shapes, 0) << g.name;
  }
}

}  // namespace
}  // namespace ckpt
