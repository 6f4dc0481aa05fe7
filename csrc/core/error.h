// Errors: standard exception types that the binding maps to Python ones, plus message helpers.
//   std::invalid_argument -> ValueError, std::out_of_range -> IndexError,
//   tl::TypeError -> TypeError, std::bad_alloc / tl::MemoryError -> MemoryError.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include <cstdint>

namespace tl {

struct TypeError : std::runtime_error { using std::runtime_error::runtime_error; };
struct MemoryError : std::runtime_error { using std::runtime_error::runtime_error; };
// For autograd misuse (backward twice, in-place on a leaf that requires grad): RuntimeError.
struct RuntimeError : std::runtime_error { using std::runtime_error::runtime_error; };

// "(32,10)" / "(3,)" / "()" as NumPy prints shapes in its error messages.
std::string shape_str(const std::vector<int64_t>& shape);

template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

}  // namespace tl

// TL_CHECK(cond, op, message parts...) -> std::invalid_argument("[op] message").
#define TL_CHECK(cond, op, ...) \
  do { if (!(cond)) throw std::invalid_argument(::tl::str_cat("[", op, "] ", __VA_ARGS__)); } while (0)
#define TL_CHECK_INDEX(cond, op, ...) \
  do { if (!(cond)) throw std::out_of_range(::tl::str_cat("[", op, "] ", __VA_ARGS__)); } while (0)
#define TL_CHECK_TYPE(cond, op, ...) \
  do { if (!(cond)) throw ::tl::TypeError(::tl::str_cat("[", op, "] ", __VA_ARGS__)); } while (0)
