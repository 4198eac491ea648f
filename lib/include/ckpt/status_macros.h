// ckpt/status_macros.h — early-return helpers for absl::Status code.
//
//   CKPT_RETURN_IF_ERROR(file->Append(data));
//   CKPT_ASSIGN_OR_RETURN(std::unique_ptr<ckpt::BundleReader> reader,
//                         ckpt::BundleReader::Open(prefix));
//
// Both return the error status unchanged from the enclosing function, which
// must return absl::Status or an absl::StatusOr. CKPT_ASSIGN_OR_RETURN
// expands to several statements and declares a hidden variable: use it as a
// statement of its own (in braces under an `if`), at most once per line.
#ifndef CKPT_STATUS_MACROS_H_
#define CKPT_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CKPT_RETURN_IF_ERROR(expr)                   \
  do {                                               \
    ::absl::Status ckpt_status_ = (expr);            \
    if (!ckpt_status_.ok()) return ckpt_status_;     \
  } while (0)

#define CKPT_STATUS_CONCAT_INNER_(a, b) a##b
#define CKPT_STATUS_CONCAT_(a, b) CKPT_STATUS_CONCAT_INNER_(a, b)

#define CKPT_ASSIGN_OR_RETURN(lhs, expr) \
  CKPT_ASSIGN_OR_RETURN_IMPL_(CKPT_STATUS_CONCAT_(ckpt_statusor_, __LINE__), lhs, expr)

#define CKPT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#endif  // CKPT_STATUS_MACROS_H_
