// The source the binary was built from (generated at build time by cmake/build_info.cmake).
#pragma once

namespace attnlab::run {

// `git rev-parse HEAD` of the source tree at the last build, or "unknown" outside a git checkout.
const char* build_git_commit();
// Whether tracked files differed from that commit when it was built.
bool build_git_dirty();

}  // namespace attnlab::run
