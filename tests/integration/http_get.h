#pragma once

// A plain HTTP/1.1 GET on loopback for tests of the query server,
// independent of the server's own code (no Beast).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace eddy::test {

struct http_answer {
    int status = 0;
    std::string body;
};

// Sends `bytes` to the loopback port as they are, then reads until the
// server closes (10 s at most); returns what it answered ("" when it closed
// without a word or could not be reached).
inline std::string http_raw(std::uint16_t port, const std::string& bytes) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return {};
    }
    timeval limit{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    if (!bytes.empty()) {
        (void)::write(fd, bytes.data(), bytes.size());
    }
    std::string resp;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) {
        resp.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return resp;
}

// A plain HTTP/1.1 GET on loopback, independent of the server under test.
inline http_answer http_get(std::uint16_t port, const std::string& target) {
    const auto resp
        = http_raw(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    http_answer a;
    if (resp.size() > 12) {
        a.status = std::stoi(resp.substr(9, 3));
    }
    if (auto at = resp.find("\r\n\r\n"); at != std::string::npos) {
        a.body = resp.substr(at + 4);
    }
    return a;
}

// A port that was free a moment ago (bound to 0, then closed).
inline std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

} // namespace eddy::test
