#pragma once
// Digests, written once: token hashes, fingerprints, idempotency keys, signatures.

#include <string>
#include <string_view>

namespace kpiwatch {

// Lower-case hex of SHA-256(text).
std::string sha256_hex(std::string_view text);
// Lower-case hex of HMAC-SHA256(key, message).
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

}  // namespace kpiwatch
