// Result<T>: a value or an error message a person can act on. The agent's
// fallible functions return this instead of throwing (exceptions are used
// only while parsing configuration at start-up).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace bwalloc {

struct Error {
  std::string message;
};

// Builds an Error whose message is "context: detail", the shape every call
// site uses so logs read as a chain from what was attempted to why it failed.
inline Error make_error(std::string context, const std::string& detail) {
  if (!detail.empty()) context += ": " + detail;
  return Error{std::move(context)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(state_); }
  const std::string& message() const { return error().message; }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  const std::string& message() const { return error_.message; }

 private:
  Error error_;
  bool ok_ = true;
};

inline Result<void> ok_result() { return {}; }

}  // namespace bwalloc
