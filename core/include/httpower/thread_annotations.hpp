#pragma once
// Clang thread-safety annotations and an annotated mutex. Under clang with -Wthread-safety
// (the tsan preset) every access to a GUARDED_BY member without its mutex is a compile
// error; under g++ the macros expand to nothing and the types are thin wrappers.

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define HTTPOWER_TSA(x) __attribute__((x))
#else
#define HTTPOWER_TSA(x)
#endif

#define CAPABILITY(x) HTTPOWER_TSA(capability(x))
#define SCOPED_CAPABILITY HTTPOWER_TSA(scoped_lockable)
#define GUARDED_BY(x) HTTPOWER_TSA(guarded_by(x))
#define PT_GUARDED_BY(x) HTTPOWER_TSA(pt_guarded_by(x))
#define REQUIRES(...) HTTPOWER_TSA(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) HTTPOWER_TSA(acquire_capability(__VA_ARGS__))
#define RELEASE(...) HTTPOWER_TSA(release_capability(__VA_ARGS__))
#define EXCLUDES(...) HTTPOWER_TSA(locks_excluded(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS HTTPOWER_TSA(no_thread_safety_analysis)

namespace httpower {

// std::mutex with a capability attribute, so clang can check GUARDED_BY members.
class CAPABILITY("mutex") Mutex {
 public:
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

// Scoped lock over Mutex. Holds a std::unique_lock so that CondVar can wait on it.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : lock_(mu.native()) {}
  ~MutexLock() RELEASE() = default;
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  std::unique_lock<std::mutex>& native() { return lock_; }

 private:
  std::unique_lock<std::mutex> lock_;
};

// A condition variable that waits on a MutexLock. There is deliberately no predicate
// overload: callers write `while (!ready) cv.wait(lock);` inside the locked function, so the
// analysis sees every guarded read happen under the lock (a lambda would hide it).
class CondVar {
 public:
  void wait(MutexLock& lock) { cv_.wait(lock.native()); }
  // Returns false when the deadline passed (the caller re-checks its predicate either way).
  template <typename Clock, typename Duration>
  bool wait_until(MutexLock& lock, const std::chrono::time_point<Clock, Duration>& deadline) {
    return cv_.wait_until(lock.native(), deadline) == std::cv_status::no_timeout;
  }
  void notify_one() noexcept { cv_.notify_one(); }
  void notify_all() noexcept { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace httpower
