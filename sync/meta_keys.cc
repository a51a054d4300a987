#include "sync/meta_keys.h"

#include "sync/status_macros.h"

namespace steersync::sync::meta {

std::string EncodeU64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

uint64_t DecodeU64(std::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

absl::StatusOr<uint64_t> GetU64(WriteView& view, std::string_view name) {
  SYNC_ASSIGN_OR_RETURN(std::optional<std::string> value, view.MetaGet(name));
  if (!value.has_value()) return 0;
  if (value->size() != 8) {
    return absl::DataLossError("meta value '" + std::string(name) + "' is " +
                               std::to_string(value->size()) + " bytes, not 8");
  }
  return DecodeU64(*value);
}

absl::Status PutU64(WriteView& view, std::string_view name, uint64_t value) {
  return view.MetaPut(name, EncodeU64(value));
}

absl::StatusOr<std::optional<v1::Hlc>> GetHlc(WriteView& view, std::string_view name) {
  SYNC_ASSIGN_OR_RETURN(std::optional<std::string> value, view.MetaGet(name));
  if (!value.has_value()) return std::optional<v1::Hlc>();
  v1::Hlc hlc;
  if (!hlc.ParseFromString(*value)) {
    return absl::DataLossError("meta value '" + std::string(name) + "' is not an Hlc");
  }
  return std::optional<v1::Hlc>(std::move(hlc));
}

}  // namespace steersync::sync::meta
