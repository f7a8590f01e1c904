#include "kpiwatch/error.hpp"

namespace kpiwatch {

std::string_view to_string(ErrorCode code) {
  switch (code) {
#define KPIWATCH_ERROR_CODE(name) \
  case ErrorCode::name:           \
    return #name;
    KPIWATCH_ERROR_CODES(KPIWATCH_ERROR_CODE)
#undef KPIWATCH_ERROR_CODE
  }
  return "error";
}

}  // namespace kpiwatch
