#include "common/v1_source.h"

#include "absl/strings/str_cat.h"
#include "ckpt/status_macros.h"
#include "ckpt/v1_reader.h"

namespace ckpt {
namespace tools {
namespace {

class V1Source : public TensorSource {
 public:
  V1Source(std::string path, std::unique_ptr<V1Reader> reader)
      : path_(std::move(path)), reader_(std::move(reader)) {
    for (const V1EntryInfo& e : reader_->entries()) {
      SourceTensor t;
      t.name = e.name;
      t.dtype = e.dtype;
      t.shape = e.shape;
      for (const V1SliceInfo& s : e.slices) t.bytes += s.bytes;
      tensors_.push_back(std::move(t));
    }
  }

  const std::string& path() const override { return path_; }
  std::map<std::string, std::string> metadata() const override {
    return {{"source_format", "tensorflow_checkpoint_v1"}};
  }
  const std::vector<SourceTensor>& tensors() const override { return tensors_; }
  absl::StatusOr<Tensor> Read(size_t i) const override {
    if (i >= tensors_.size()) return absl::OutOfRangeError(absl::StrCat(path_, ": no tensor ", i));
    return reader_->Read(tensors_[i].name);
  }

 private:
  std::string path_;
  std::unique_ptr<V1Reader> reader_;
  std::vector<SourceTensor> tensors_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TensorSource>> OpenV1Source(const std::string& path) {
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<V1Reader> reader, V1Reader::Open(path));
  return std::unique_ptr<TensorSource>(new V1Source(path, std::move(reader)));
}

}  // namespace tools
}  // namespace ckpt
