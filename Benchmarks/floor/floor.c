// floor: the least a replicated, fsynced write can cost on this machine.
//
// Four processes on loopback, shaped like one Raft write from a single client:
//   client --request--> leader --append--> follower 1, follower 2
//   each server: pwrite the record to its own preallocated log file, fdatasync
//   follower --ack--> leader; the leader answers once its own sync and one follower's ack are in.
// No TLS, no encoding, no consensus state: plain blocking system calls, one poll loop on the
// leader, fixed-size messages. Whatever this takes is a floor for any implementation of the same
// protocol on the same machine (Cairn adds TLS, framing, Raft and the state machine on top).
//
// usage: floor --dir DIR [--requests N] [--warmup N] [--sync 0|1] [--size BYTES] [--port BASE]
//              [--cert PEM --key PEM]   (TLS 1.3 on every connection, as Cairn and etcd use it)
// prints: p50/p90/p99 of the client's request latency in milliseconds, and requests per second.

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define SEGMENT (64L << 20)
#define MAX_MESSAGE 65536

static int requests = 5000, warmup = 500, sync_on = 1, size = 256, base_port = 28600;
static const char *dir, *cert_file, *key_file;  // with a certificate, every connection is TLS 1.3

// A connection: a socket, and its TLS session when --cert is given.
typedef struct { int fd; SSL *ssl; } Conn;

static void die(const char *what) {
    fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
    exit(1);
}

static ssize_t conn_read(Conn *c, void *buffer, size_t count) {
    if (!c->ssl) return read(c->fd, buffer, count);
    int n = SSL_read(c->ssl, buffer, (int)count);
    if (n > 0) return n;
    if (SSL_get_error(c->ssl, n) == SSL_ERROR_ZERO_RETURN) return 0;
    errno = ECONNRESET;
    return -1;
}

static void full_write(Conn *c, const void *buffer, size_t count) {
    const char *p = buffer;
    if (c->ssl) {  // one TLS record per message
        if (SSL_write(c->ssl, buffer, (int)count) != (int)count) { fprintf(stderr, "floor: SSL_write failed\n"); exit(1); }
        return;
    }
    while (count > 0) {
        ssize_t n = write(c->fd, p, count);
        if (n < 0) { if (errno == EINTR) continue; die("write"); }
        p += n; count -= (size_t)n;
    }
}

// Reads one message (u32 length, then the body) into buffer; returns its length, -1 at EOF.
static int read_message(Conn *c, char *buffer) {
    uint32_t length;
    size_t got = 0;
    while (got < 4) {
        ssize_t n = conn_read(c, (char *)&length + got, 4 - got);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) return -1;  // the peer is gone: the run is over
        if (n < 0) { if (errno == EINTR) continue; die("read"); }
        got += (size_t)n;
    }
    if (length > MAX_MESSAGE) { fprintf(stderr, "floor: bad length %u\n", length); exit(1); }
    got = 0;
    while (got < length) {
        ssize_t n = conn_read(c, buffer + got, length - got);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0 || (n < 0 && errno == ECONNRESET)) return -1;
        if (n < 0) die("read body");
        got += (size_t)n;
    }
    return (int)length;
}

static void send_message(Conn *c, const char *body, uint32_t length) {
    char frame[MAX_MESSAGE + 4];
    memcpy(frame, &length, 4);
    memcpy(frame + 4, body, length);
    full_write(c, frame, length + 4);  // one write per message, as a framed protocol does
}

static void no_delay(int fd) {
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) die("TCP_NODELAY");
}

static struct sockaddr_in address(int node, int port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    char ip[32];
    snprintf(ip, sizeof ip, "127.0.0.%d", node);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static SSL_CTX *tls_context(int server) {
    SSL_CTX *context = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION);
    if (server && (SSL_CTX_use_certificate_chain_file(context, cert_file) != 1 ||
                   SSL_CTX_use_PrivateKey_file(context, key_file, SSL_FILETYPE_PEM) != 1)) {
        ERR_print_errors_fp(stderr);
        exit(1);
    }
    return context;
}

// Wraps a connected socket in TLS when a certificate was given (the handshake is not timed).
static Conn secure(int fd, int server) {
    Conn c = {fd, NULL};
    if (!cert_file) return c;
    static SSL_CTX *contexts[2];
    if (!contexts[server]) contexts[server] = tls_context(server);
    c.ssl = SSL_new(contexts[server]);
    SSL_set_fd(c.ssl, fd);
    if ((server ? SSL_accept(c.ssl) : SSL_connect(c.ssl)) != 1) {
        ERR_print_errors_fp(stderr);
        exit(1);
    }
    return c;
}

static int listen_on(int node, int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = address(node, port);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    if (listen(fd, 4) < 0) die("listen");
    return fd;
}

static int accept_one(int listener) {
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) die("accept");
    no_delay(fd);
    close(listener);
    return fd;
}

static int dial(int node, int port) {
    struct sockaddr_in a = address(node, port);
    for (int attempt = 0; attempt < 500; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) { no_delay(fd); return fd; }
        close(fd);
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);  // the listener is another process starting up
    }
    die("connect");
    return -1;
}

// A log file preallocated like Cairn's segments (posix_fallocate), appended with pwrite.
typedef struct { int fd; off_t offset; } Log;

static Log open_log(const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.log", dir, name);
    Log log = {open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), 0};
    if (log.fd < 0) die(path);
    int code = posix_fallocate(log.fd, 0, SEGMENT);
    if (code != 0) { errno = code; die("posix_fallocate"); }
    if (fsync(log.fd) < 0) die("fsync");
    return log;
}

static void append(Log *log, const char *record, size_t length) {
    if (log->offset + (off_t)length > SEGMENT) log->offset = 0;
    if (pwrite(log->fd, record, length, log->offset) != (ssize_t)length) die("pwrite");
    log->offset += (off_t)length;
    if (sync_on && fdatasync(log->fd) < 0) die("fdatasync");
}

static void follower(int node) {
    Conn leader_conn = secure(accept_one(listen_on(node, base_port + node)), 1), *from_leader = &leader_conn;
    Log log = open_log(node == 2 ? "follower1" : "follower2");
    char buffer[MAX_MESSAGE];
    int n;
    while ((n = read_message(from_leader, buffer)) > 0) {
        append(&log, buffer, (size_t)n);
        send_message(from_leader, buffer, 8);  // ack: the request's sequence number
    }
    exit(0);
}

static void leader(void) {
    int client_listener = listen_on(1, base_port + 1);
    Conn followers[2] = {secure(dial(2, base_port + 2), 0), secure(dial(3, base_port + 3), 0)};
    Conn client_conn = secure(accept_one(client_listener), 1), *client = &client_conn;
    Log log = open_log("leader");
    char buffer[MAX_MESSAGE];
    // The request in flight: its sequence number, and whether the leader's sync and a
    // follower's ack are in. One client, so one request at a time.
    uint64_t current = 0;
    int durable = 0, acked = 0, answered = 1;
    Conn *conns[3] = {client, &followers[0], &followers[1]};
    struct pollfd fds[3] = {{client->fd, POLLIN, 0}, {followers[0].fd, POLLIN, 0}, {followers[1].fd, POLLIN, 0}};
    for (;;) {
        int buffered = 0;  // TLS may hold a decrypted message the socket no longer shows
        for (int i = 0; i < 3; i++) {
            fds[i].revents = conns[i]->ssl && SSL_pending(conns[i]->ssl) > 0 ? POLLIN : 0;
            buffered |= fds[i].revents;
        }
        if (!buffered && poll(fds, 3, -1) < 0) { if (errno == EINTR) continue; die("poll"); }
        if (fds[0].revents) {
            int n = read_message(client, buffer);
            if (n < 0) break;
            memcpy(&current, buffer, 8);
            durable = acked = answered = 0;
            // Replicate first, then write and sync the leader's own copy.
            send_message(&followers[0], buffer, (uint32_t)n + 40);  // plus an append's header
            send_message(&followers[1], buffer, (uint32_t)n + 40);
            append(&log, buffer, (size_t)n + 40);
            durable = 1;
        }
        for (int i = 1; i <= 2; i++) {
            if (!fds[i].revents) continue;
            uint64_t sequence;
            if (read_message(conns[i], buffer) < 0) goto done;
            memcpy(&sequence, buffer, 8);
            if (sequence == current) acked = 1;
        }
        if (!answered && durable && acked) {
            send_message(client, buffer, 40);  // the answer
            answered = 1;
        }
    }
done:
    exit(0);
}

static int compare(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value) { fprintf(stderr, "floor: %s needs a value\n", flag); return 2; }
        if (!strcmp(flag, "--dir")) dir = value;
        else if (!strcmp(flag, "--requests")) requests = atoi(value);
        else if (!strcmp(flag, "--warmup")) warmup = atoi(value);
        else if (!strcmp(flag, "--sync")) sync_on = atoi(value);
        else if (!strcmp(flag, "--size")) size = atoi(value);
        else if (!strcmp(flag, "--port")) base_port = atoi(value);
        else if (!strcmp(flag, "--cert")) cert_file = value;
        else if (!strcmp(flag, "--key")) key_file = value;
        else { fprintf(stderr, "floor: unknown flag %s\n", flag); return 2; }
        i++;
    }
    if (!dir || !cert_file != !key_file || requests <= 0 || warmup < 0 || size < 8 || size > MAX_MESSAGE - 64) {
        fprintf(stderr, "usage: floor --dir DIR [--requests N] [--warmup N] [--sync 0|1] [--size BYTES] [--port BASE] [--cert PEM --key PEM]\n");
        return 2;
    }
    pid_t children[3];
    if ((children[0] = fork()) == 0) follower(2);
    if ((children[1] = fork()) == 0) follower(3);
    if ((children[2] = fork()) == 0) leader();
    Conn server_conn = secure(dial(1, base_port + 1), 0), *server = &server_conn;
    char request[MAX_MESSAGE], answer[MAX_MESSAGE];
    memset(request, 'v', (size_t)size);
    uint64_t *latencies = malloc(sizeof(uint64_t) * (size_t)requests);
    uint64_t started = 0;
    for (int i = 0; i < warmup + requests; i++) {
        if (i == warmup) started = now_ns();
        uint64_t sequence = (uint64_t)i + 1, t0 = now_ns();
        memcpy(request, &sequence, 8);
        send_message(server, request, (uint32_t)size + 40);  // key and header beside the value
        if (read_message(server, answer) < 0) { fprintf(stderr, "floor: leader went away\n"); return 1; }
        if (i >= warmup) latencies[i - warmup] = now_ns() - t0;
    }
    double seconds = (double)(now_ns() - started) / 1e9;
    close(server->fd);
    for (int i = 0; i < 3; i++) waitpid(children[i], NULL, 0);
    qsort(latencies, (size_t)requests, sizeof(uint64_t), compare);
    #define PCT(p) (latencies[(size_t)((p) / 100.0 * (requests - 1))] / 1e6)
    printf("tls=%d sync=%d requests=%d p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  %.0f req/s\n", cert_file != NULL, sync_on, requests,
           PCT(50), PCT(90), PCT(99), requests / seconds);
    return 0;
}
