// LoadSavedModel and RunSignature on TensorFlow Serving's half_plus_two
// SavedModel: y = 0.5 x + 2 (serving_default), y3 = 0.5 x2 + 3
// (regress_x2_to_y3), with variables restored through the graph's own
// sharded saver and the main op run.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "ckpt/runtime/saved_model_loader.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

Tensor Column(const std::vector<float>& v) {
  Tensor t(DT_FLOAT, TensorShape({static_cast<int64_t>(v.size()), 1}));
  std::copy(v.begin(), v.end(), t.mutable_flat<float>().begin());
  return t;
}

std::vector<float> Values(const Tensor& t) {
  auto f = t.flat<float>();
  return std::vector<float>(f.begin(), f.end());
}

std::string HalfPlusTwo(const std::string& corpus) {
  return corpus + "/saved_model_half_plus_two";
}

TEST(SavedModelLoaderTest, ServingDefaultComputesHalfPlusTwo) {
  CKPT_REQUIRE_CORPUS(corpus);
  auto model = LoadSavedModel(HalfPlusTwo(corpus), {"serve"});
  ASSERT_TRUE(model.ok()) << model.status();
  auto out = (*model)->RunSignature("serving_default", {{"x", Column({1, 2, 5})}});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].first, "y");
  EXPECT_EQ((*out)[0].second.shape(), TensorShape({3, 1}));
  // 0.5 * x + 2, exact in float.
  EXPECT_EQ(Values((*out)[0].second), (std::vector<float>{2.5f, 3.0f, 4.5f}));

  // The variables came from the checkpoint (not from their initializers,
  // which would also give 0.5 and 2 here: compare c, whose use differs).
  auto a = (*model)->session().VariableValue("a");
  auto c2 = (*model)->session().VariableValue("c2");
  ASSERT_TRUE(a.ok() && c2.ok());
  EXPECT_EQ(a->flat<float>()[0], 0.5f);
  EXPECT_EQ(c2->flat<float>()[0], 3.0f);
  // The main op ran: it assigns "foo.txt" to filename_tensor, a variable
  // the checkpoint does not hold.
  auto asset = (*model)->session().VariableValue("filename_tensor");
  ASSERT_TRUE(asset.ok()) << asset.status();
  EXPECT_EQ(asset->strings(), std::vector<std::string>{"foo.txt"});
}

TEST(SavedModelLoaderTest, RegressX2ToY3) {
  CKPT_REQUIRE_CORPUS(corpus);
  auto model = LoadSavedModel(HalfPlusTwo(corpus));
  ASSERT_TRUE(model.ok()) << model.status();
  auto sig = (*model)->Signature("regress_x2_to_y3");
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ((*sig)->inputs().at("inputs").name(), "x2:0");
  EXPECT_EQ((*sig)->outputs().at("outputs").name(), "y3:0");
  auto out = (*model)->RunSignature("regress_x2_to_y3", {{"inputs", Column({1, 2, 5})}},
                                    {"outputs"});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].first, "outputs");
  EXPECT_EQ(Values((*out)[0].second), (std::vector<float>{3.5f, 4.0f, 5.5f}));
}

TEST(SavedModelLoaderTest, WrongTagsListTheTagSetsThere) {
  CKPT_REQUIRE_CORPUS(corpus);
  auto model = LoadSavedModel(HalfPlusTwo(corpus), {"serve", "gpu"});
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kNotFound) << model.status();
  EXPECT_TRUE(absl::StrContains(model.status().message(), "{gpu, serve}")) << model.status();
  EXPECT_TRUE(absl::StrContains(model.status().message(), "tag sets there: {serve}"))
      << model.status();
  // Order and duplicates do not matter.
  EXPECT_TRUE(LoadSavedModel(HalfPlusTwo(corpus), {"serve", "serve"}).ok());
  EXPECT_EQ(LoadSavedModel(corpus + "/no_such_model").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(SavedModelLoaderTest, BadSignatureCallsNameWhatIsWrong) {
  CKPT_REQUIRE_CORPUS(corpus);
  auto model = LoadSavedModel(HalfPlusTwo(corpus));
  ASSERT_TRUE(model.ok()) << model.status();
  SavedModelBundle& m = **model;

  auto no_sig = m.RunSignature("predict", {{"x", Column({1})}});
  EXPECT_EQ(no_sig.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(no_sig.status().message(),
                                "classify_x_to_y, regress_x2_to_y3, regress_x_to_y, "
                                "regress_x_to_y2, serving_default"))
      << no_sig.status();

  auto bad_key = m.RunSignature("serving_default", {{"z", Column({1})}});
  EXPECT_EQ(bad_key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad_key.status().message(), "'z'")) << bad_key.status();
  EXPECT_TRUE(absl::StrContains(bad_key.status().message(), "its inputs: x")) << bad_key.status();

  Tensor ints(DT_INT32, TensorShape({1, 1}));
  auto bad_dtype = m.RunSignature("serving_default", {{"x", ints}});
  EXPECT_EQ(bad_dtype.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad_dtype.status().message(), "must be float32, got int32"))
      << bad_dtype.status();

  Tensor flat(DT_FLOAT, TensorShape({3}));
  auto bad_shape = m.RunSignature("serving_default", {{"x", flat}});
  EXPECT_EQ(bad_shape.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad_shape.status().message(), "[?,1]")) << bad_shape.status();

  auto bad_output = m.RunSignature("serving_default", {{"x", Column({1})}}, {"scores"});
  EXPECT_EQ(bad_output.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad_output.status().message(), "its outputs: y"))
      << bad_output.status();
}

}  // namespace
}  // namespace ckpt
