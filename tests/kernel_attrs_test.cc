// The typed attr getters kernels and builders use: each attr type read back,
// and the InvalidArgument naming node and attr when an attr is missing or
// holds another type.
#include <string>
#include <vector>

#include "ckpt/runtime/kernel.h"
#include "ckpt/tensor_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ckpt {
namespace runtime {
namespace {

using ::testing::ElementsAre;

::tensorflow::NodeDef Node() {
  ::tensorflow::NodeDef def;
  def.set_name("x");
  def.set_op("Test");
  auto& a = *def.mutable_attr();
  a["T"].set_type(DT_INT64);
  a["n"].set_i(-7);
  a["f"].set_f(0.25f);
  a["b"].set_b(true);
  a["s"].set_s(std::string("a\0b", 3));
  a["ints"].mutable_list()->add_i(3);
  a["ints"].mutable_list()->add_i(-1);
  a["types"].mutable_list()->add_type(DT_FLOAT);
  a["types"].mutable_list()->add_type(DT_STRING);
  a["empty_list"].mutable_list();
  a["unset"];  // an AttrValue holding nothing
  auto* t = a["value"].mutable_tensor();
  t->set_dtype(DT_FLOAT);
  t->mutable_tensor_shape()->add_dim()->set_size(3);
  t->add_float_val(1.5f);
  auto* bad = a["bad_tensor"].mutable_tensor();
  bad->set_dtype(DT_FLOAT);
  bad->mutable_tensor_shape()->add_dim()->set_size(-5);
  return def;
}

TEST(KernelAttrsTest, ReadsEachType) {
  const auto def = Node();
  EXPECT_EQ(*GetTypeAttr(def, "T"), DT_INT64);
  EXPECT_EQ(*GetIntAttr(def, "n"), -7);
  EXPECT_EQ(*GetFloatAttr(def, "f"), 0.25f);
  EXPECT_TRUE(*GetBoolAttr(def, "b"));
  EXPECT_EQ(*GetStringAttr(def, "s"), std::string("a\0b", 3));
  EXPECT_THAT(*GetIntListAttr(def, "ints"), ElementsAre(3, -1));
  EXPECT_THAT(*GetTypeListAttr(def, "types"), ElementsAre(DT_FLOAT, DT_STRING));
  EXPECT_TRUE(GetIntListAttr(def, "empty_list")->empty());
  EXPECT_TRUE(GetTypeListAttr(def, "unset")->empty());
  absl::StatusOr<Tensor> t = GetTensorAttr(def, "value");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->shape(), TensorShape({3}));
  EXPECT_THAT(std::vector<float>(t->flat<float>().begin(), t->flat<float>().end()),
              ElementsAre(1.5f, 1.5f, 1.5f));
}

TEST(KernelAttrsTest, ErrorsNameNodeAndAttr) {
  const auto def = Node();
  absl::Status missing = GetTypeAttr(def, "dtype").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.message(), "node 'x': attr 'dtype' missing");
  absl::Status wrong = GetTypeAttr(def, "n").status();
  EXPECT_EQ(wrong.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong.message(), "node 'x': attr 'n' is not a type (it holds an int)");
  EXPECT_EQ(GetIntAttr(def, "T").status().message(),
            "node 'x': attr 'T' is not an int (it holds a type)");
  EXPECT_EQ(GetFloatAttr(def, "b").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetBoolAttr(def, "f").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetStringAttr(def, "ints").status().message(),
            "node 'x': attr 'ints' is not a string (it holds a list)");
  EXPECT_EQ(GetIntListAttr(def, "s").status().message(),
            "node 'x': attr 's' is not a list (it holds a string)");
  EXPECT_EQ(GetTypeListAttr(def, "missing").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetIntAttr(def, "unset").status().message(),
            "node 'x': attr 'unset' is not an int (it holds no value)");
  absl::Status bad = GetTensorAttr(def, "bad_tensor").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), ::testing::StartsWith("node 'x': attr 'bad_tensor': "));
  EXPECT_EQ(GetTensorAttr(def, "T").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace runtime
}  // namespace ckpt
