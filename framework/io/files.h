// Durable file operations: atomic whole-file writes (temporary file, fsync, rename, fsync of the
// directory) so a crash never leaves a half-written file under the final name, and CRC32C for
// checksums (the Castagnoli polynomial, as TensorBoard's TFRecord framing also uses).
#pragma once

#include <cstdint>
#include <string>

namespace attnlab::io {

// Reads a whole file; throws UserError "PATH: cannot read: <reason>".
std::string read_file(const std::string& path);
// Writes `bytes` to `path` atomically (PATH.tmp-<pid>, fsync, rename, fsync parent dir).
void write_file_atomic(const std::string& path, const std::string& bytes);
// Writes and fsyncs `bytes` to a new file (no rename), for files inside a temporary directory.
void write_file_synced(const std::string& path, const std::string& bytes);
// fsync of a directory, so a rename or create inside it is durable.
void fsync_dir(const std::string& dir);

uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0);
inline uint32_t crc32c(const std::string& bytes) { return crc32c(bytes.data(), bytes.size()); }

}  // namespace attnlab::io
