// See pinger.h.
#include "tests/net/pinger.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

namespace bwalloc::test {
namespace {

using Clock = std::chrono::steady_clock;

uint16_t checksum(const uint8_t* data, size_t length) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < length; i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (length % 2) sum += static_cast<uint32_t>(data[length - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<uint16_t>(~sum));
}

// A raw ICMP socket made inside `ns` (the socket stays there when this
// thread returns to its own namespace).
int raw_socket_in(const std::string& ns, std::string& error) {
  int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int target = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  int fd = -1;
  if (own < 0 || target < 0) {
    error = "cannot open namespace " + ns + ": " + std::strerror(errno);
  } else if (setns(target, CLONE_NEWNET) != 0) {
    error = "setns " + ns + ": " + std::strerror(errno);
  } else {
    fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMP);
    if (fd < 0) error = std::string("raw ICMP socket: ") + std::strerror(errno);
    if (setns(own, CLONE_NEWNET) != 0) {
      // Never leave this thread in another namespace.
      std::perror("pinger: cannot return to the original network namespace");
      std::abort();
    }
  }
  if (own >= 0) close(own);
  if (target >= 0) close(target);
  return fd;
}

}  // namespace

PingRun ping_from(const std::string& ns, const std::string& ipv4, int count, double interval_s, double timeout_s) {
  PingRun run;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  if (inet_pton(AF_INET, ipv4.c_str(), &to.sin_addr) != 1) {
    run.error = "not an IPv4 address: " + ipv4;
    return run;
  }
  int fd = raw_socket_in(ns, run.error);
  if (fd < 0) return run;

  static std::atomic<uint16_t> next_id{static_cast<uint16_t>(getpid() * 131)};
  const uint16_t id = next_id++;
  std::vector<Clock::time_point> sent_at(static_cast<size_t>(count));
  std::vector<double> rtt(static_cast<size_t>(count), -1);
  std::mutex mutex;  // sent_at and rtt between the two threads
  std::atomic<int> sent{0};
  std::atomic<bool> sending_done{false};
  const auto start = Clock::now();
  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval_s));

  std::thread receiver([&] {
    std::optional<Clock::time_point> deadline;
    int answered = 0;
    while (true) {
      if (!deadline && sending_done) {
        deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
      }
      if (deadline && (Clock::now() >= *deadline || answered == sent)) break;
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      uint8_t buf[1500];
      ssize_t n;
      while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
        auto now = Clock::now();
        size_t ihl = static_cast<size_t>(buf[0] & 0x0f) * 4;
        if (static_cast<size_t>(n) < ihl + 8) continue;
        const uint8_t* icmp = buf + ihl;
        uint16_t reply_id = static_cast<uint16_t>(icmp[4] << 8 | icmp[5]);
        uint16_t seq = static_cast<uint16_t>(icmp[6] << 8 | icmp[7]);
        if (icmp[0] != ICMP_ECHOREPLY || reply_id != id || seq >= count) continue;
        std::lock_guard lock(mutex);
        if (rtt[seq] >= 0 || seq >= sent) continue;  // a duplicate, or not ours
        rtt[seq] = std::chrono::duration<double, std::milli>(now - sent_at[seq]).count();
        ++answered;
      }
    }
  });

  uint8_t packet[8 + 56];
  for (int i = 0; i < count; ++i) {
    // Absolute departure times: a late wake-up sends at once and the
    // schedule goes on, so `count` echoes take count x interval.
    auto due = start + i * interval;
    timespec ts{};
    auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(due.time_since_epoch()).count();
    ts.tv_sec = since_epoch / 1'000'000'000;
    ts.tv_nsec = since_epoch % 1'000'000'000;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
    std::memset(packet, 0, sizeof packet);
    packet[0] = ICMP_ECHO;
    packet[4] = static_cast<uint8_t>(id >> 8);
    packet[5] = static_cast<uint8_t>(id);
    packet[6] = static_cast<uint8_t>(i >> 8);
    packet[7] = static_cast<uint8_t>(i);
    for (size_t b = 8; b < sizeof packet; ++b) packet[b] = static_cast<uint8_t>(b);
    uint16_t sum = checksum(packet, sizeof packet);
    std::memcpy(packet + 2, &sum, 2);
    {
      std::lock_guard lock(mutex);
      sent_at[static_cast<size_t>(i)] = Clock::now();
      sent = i + 1;
    }
    if (sendto(fd, packet, sizeof packet, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
      // Counted as sent and lost, as ping counts an echo it could not send.
      continue;
    }
  }
  run.send_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  sending_done = true;
  receiver.join();
  close(fd);

  run.ok = true;
  run.sent = sent;
  for (double r : rtt) {
    if (r >= 0) {
      run.rtts_ms.push_back(r);
      ++run.received;
    }
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return run;
}

}  // namespace bwalloc::test
