// File: ironwal/cli/finish_output.h
//
// The last step of the tools' main(): standard output that did not reach its file (a full
// disk under a redirect, a closed descriptor) fails the command, so that `ironwal dump ...
// > backup` never exits 0 with half a backup.
//
//   int main(int argc, char** argv) { return FinishOutput(Run(argc, argv)); }
#ifndef IRONWAL_CLI_FINISH_OUTPUT_H_
#define IRONWAL_CLI_FINISH_OUTPUT_H_

namespace ironwal {
namespace cli {

// Flushes std::cout (and stdout under it). If any output failed, says so on std::cerr
// and returns 1 in place of a successful `code`; otherwise returns `code`.
int FinishOutput(int code);

}  // namespace cli
}  // namespace ironwal

#endif  // IRONWAL_CLI_FINISH_OUTPUT_H_
