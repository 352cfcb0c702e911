#include "ironwal/cli/finish_output.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

namespace ironwal {
namespace cli {

int FinishOutput(int code) {
  errno = 0;
  std::cout.flush();  // flushes stdout under it, where errno says why it failed
  const bool flushed = std::fflush(stdout) == 0;
  const int error = errno;
  if (std::cout && flushed && !std::ferror(stdout)) return code;
  // errno names the cause only when these flushes failed; an earlier failure left a flag.
  std::cerr << "ironwal: writing standard output failed"
            << (error != 0 ? std::string(": ") + std::strerror(error) : std::string())
            << "; the output is incomplete\n";
  return code == 0 ? 1 : code;
}

}  // namespace cli
}  // namespace ironwal
