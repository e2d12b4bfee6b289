// The kernel assertion without a machine. VFSIM_KASSERT (sim/machine.h) needs
// the run's Machine to end it; code that also runs outside any machine — the
// ext2 core under its own tests and the fuzzer, the errno result types below
// every layer — asserts with VFSIM_ASSERT instead. Both stay on in every
// build and give the same message ("KASSERT failed: COND (MSG) at FILE:LINE").
//
// A failed VFSIM_ASSERT throws PanicError. Inside a machine, the lwp's entry
// turns it into Outcome::panic (Machine::lwp_entry); a layer that calls
// machine-free code while holding sim locks catches it at its boundary and
// hands it to Machine::panic, so that the run is marked as ending before any
// lock is released (see Ext2Mount::call). Outside a machine it is an
// exception for the caller: a test reports it as a failure, the fuzzer
// aborts with its message.
//
// Like VFSIM_KASSERT, it is for invariants of our own code, never for data
// from outside (an image, a server's reply), which is checked and answered
// with an errno.
#pragma once

#include <string>

namespace vfsim::sim {

// Thrown by a failed VFSIM_ASSERT; caught at the lwp's entry and turned into
// Outcome::panic. Not derived from std::exception so that no kernel or module
// code swallows it by accident.
struct PanicError {
  std::string message;
};

// The text of a failed kernel assertion, the same for both forms.
inline std::string kassert_message(const char* cond, const std::string& msg, const char* file,
                                   int line) {
  return std::string("KASSERT failed: ") + cond + " (" + msg + ") at " + file + ":" +
         std::to_string(line);
}

// The failure half of VFSIM_ASSERT, out of line and cold: the message is
// built only here, so the code that checks keeps a small frame.
template <typename Msg>
[[noreturn, gnu::cold, gnu::noinline]] void assert_failed(const char* cond, const Msg& msg,
                                                          const char* file, int line) {
  throw PanicError{kassert_message(cond, msg(), file, line)};
}

}  // namespace vfsim::sim

// Machine-free kernel assertion: stays on in every build; throws PanicError
// naming the place.
#define VFSIM_ASSERT(cond, msg)                                                          \
  do {                                                                                   \
    if (!(cond)) [[unlikely]] {                                                          \
      ::vfsim::sim::assert_failed(                                                       \
          #cond, [&]() -> std::string { return std::string(msg); }, __FILE__, __LINE__); \
    }                                                                                    \
  } while (0)
