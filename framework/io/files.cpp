// Durable whole-file I/O on POSIX: reads, synced writes, atomic replace-by-rename and directory
// fsync. A rename is only durable once the directory holding it is fsynced, and a file's bytes
// are only durable once the file is fsynced before the rename, so write_file_atomic does both:
//   write PATH.tmp-<pid> -> fsync(file) -> rename(tmp, PATH) -> fsync(parent dir).
// Every failure is a UserError that names the path and the errno text.
#include "framework/io/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "framework/errors.h"

namespace attnlab::io {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Closes a descriptor exactly once, also on the error paths that throw.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // close() can report a deferred write error (e.g. on NFS), so callers that wrote check it.
  int release_and_close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd);
  }

 private:
  int fd_;
};

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Writes all of `bytes`, retrying short writes and EINTR. Returns 0 or the errno of the failure.
int write_all(int fd, const std::string& bytes) {
  const char* data = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  return 0;
}

// The outcome of one synced write: errno 0 on success, else which step failed and whether the
// file had been created (only then may the caller delete it).
struct WriteOutcome {
  int err = 0;
  const char* what = "";
  bool created = false;
};

// Creates (or truncates) `path`, writes, fsyncs and closes it.
WriteOutcome write_and_sync(const std::string& path, const std::string& bytes) {
  WriteOutcome out;
  FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) {
    out.err = errno;
    out.what = "cannot create";
    return out;
  }
  out.created = true;
  if ((out.err = write_all(fd.get(), bytes)) != 0) {
    out.what = "cannot write";
  } else if (::fsync(fd.get()) != 0) {
    out.err = errno;
    out.what = "cannot fsync";
  } else if (fd.release_and_close() != 0) {
    out.err = errno;
    out.what = "cannot close";
  }
  return out;
}

}  // namespace

std::string read_file(const std::string& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw UserError(path + ": cannot read: " + errno_text(errno));
  // Read straight into a buffer of the file's size, then on until EOF rather than trusting the
  // size: the file may be a pipe, or grow meanwhile.
  struct stat st {};
  const bool sized = ::fstat(fd.get(), &st) == 0 && st.st_size > 0;
  std::string bytes(sized ? static_cast<size_t>(st.st_size) : 0, '\0');
  size_t have = 0;
  for (;;) {
    char spill[1 << 16];
    const bool room = have < bytes.size();
    const ssize_t n = room ? ::read(fd.get(), &bytes[have], bytes.size() - have)
                           : ::read(fd.get(), spill, sizeof spill);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw UserError(path + ": cannot read: " + errno_text(errno));
    }
    if (n == 0) break;
    if (room) {
      have += static_cast<size_t>(n);
    } else {
      bytes.append(spill, static_cast<size_t>(n));
      have = bytes.size();
    }
  }
  bytes.resize(have);
  return bytes;
}

void write_file_synced(const std::string& path, const std::string& bytes) {
  const WriteOutcome out = write_and_sync(path, bytes);
  if (out.err != 0) {
    // A half-written file must not survive under a name a reader could trust (but a file we
    // could not even open is not ours to delete).
    if (out.created) ::unlink(path.c_str());
    throw UserError(path + ": " + out.what + ": " + errno_text(out.err));
  }
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  WriteOutcome out = write_and_sync(tmp, bytes);
  if (out.err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) {
    out.err = errno;
    out.what = "cannot rename the temporary file into place";
  }
  if (out.err != 0) {
    if (out.created) ::unlink(tmp.c_str());
    throw UserError(path + ": " + out.what + ": " + errno_text(out.err));
  }
  // The new name is visible now; fsync of the directory makes it survive a power loss.
  fsync_dir(parent_dir(path));
}

void fsync_dir(const std::string& dir) {
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) throw UserError(dir + ": cannot open directory to fsync: " + errno_text(errno));
  if (::fsync(fd.get()) != 0) {
    // Some filesystems cannot fsync a directory at all (EINVAL); there is nothing more to do
    // there, and failing every checkpoint on them would be worse than the weaker guarantee.
    if (errno == EINVAL) return;
    throw UserError(dir + ": cannot fsync directory: " + errno_text(errno));
  }
}

}  // namespace attnlab::io
