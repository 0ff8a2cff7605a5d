// Shim for TorchSharp 0.107.0's libLibTorchSharp.so on systems with libstdc++ older than GCC 13 (Debian 12).
// GCC 13 makes every object that includes <iostream> reference std::ios_base_library_init() (GLIBCXX_3.4.32)
// so that the library initialises the standard streams. Older libstdc++ lacks the symbol; it initialises the
// streams through a static std::ios_base::Init per translation unit instead, which is what this file provides.
#include <ios>

namespace std {
__attribute__((visibility("default"))) void ios_base_library_init() {}
}

static std::ios_base::Init actortraining_ios_init;
