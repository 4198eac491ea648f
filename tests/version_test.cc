// ckpt::Version() and the CKPT_VERSION_* macros against the project version
// CMake passes in (CKPT_PROJECT_VERSION, from project(ckpt VERSION ...)).
#include "ckpt/version.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ckpt {
namespace {

// The macros are for the preprocessor: they must be integer literals.
#if !(CKPT_VERSION_MAJOR >= 0 && CKPT_VERSION_MINOR >= 0 && CKPT_VERSION_PATCH >= 0)
#error "CKPT_VERSION_* are not usable in #if"
#endif

TEST(VersionTest, LibraryReportsTheProjectVersion) {
  EXPECT_EQ(std::string(Version()), CKPT_PROJECT_VERSION);
}

TEST(VersionTest, MacrosSpellTheProjectVersion) {
  EXPECT_EQ(absl::StrCat(CKPT_VERSION_MAJOR, ".", CKPT_VERSION_MINOR, ".", CKPT_VERSION_PATCH),
            CKPT_PROJECT_VERSION);
  EXPECT_STREQ(CKPT_VERSION_STRING, CKPT_PROJECT_VERSION);
}

}  // namespace
}  // namespace ckpt
