// The nginx.conf of the reference proxy: nginx in front of both of the demo server's sides, as
// plainly as a deployment would put it there, one worker like the gateways' one process.

/** What the configuration needs: where nginx writes, where it listens and what it proxies. */
export interface NginxConfigOptions {
  /** The prefix directory (nginx -p): its logs, pid file and temporary files go here. */
  readonly dir: string;
  /** Ports nginx listens on, on 127.0.0.1: gRPC (cleartext HTTP/2) and HTTP/1.1. */
  readonly grpcPort: number;
  readonly httpPort: number;
  /** 'host:port' of the demo server's gRPC and HTTP sides. */
  readonly upstreamGrpc: string;
  readonly upstreamHttp: string;
}

/**
 * Open streams per client connection: as many as the gateway's gRPC listener allows
 * (`maxConcurrentStreams` 1000), so rss-streams' 250 per connection pass; nginx's default of 128
 * would queue them.
 */
const MAX_CONCURRENT_STREAMS = 1_000;

/**
 * Requests per keep-alive connection, both downstream and to the upstream. nginx closes a
 * connection after 1,000 by default (100 before 1.19.10), so a round would also measure
 * reconnecting, which neither the gateway nor the demo server makes its clients do.
 */
const KEEPALIVE_REQUESTS = 1_000_000;

/** Idle upstream connections the worker keeps, as many as the gateway's HTTP pool holds. */
const UPSTREAM_KEEPALIVE = 64;

/**
 * The text of nginx.conf. One worker process, so nginx has one core's worth of process like the
 * gateways (`--workers 1`); an access log line per request, as the gateways write at `info`;
 * gRPC through `grpc_pass` on an HTTP/2 listener without TLS (h2c, as grpc-js speaks to it);
 * HTTP through `proxy_pass` over keep-alive HTTP/1.1 upstream connections with buffering off,
 * so SSE events pass as they come. Every path nginx writes is under `dir`, so it runs as any
 * user. Limitation: before nginx 1.19.7 an HTTP/2 connection still ends after
 * `http2_max_requests` (1,000) requests, which this file leaves at its default.
 */
export function nginxConfig(options: NginxConfigOptions): string {
  const { dir } = options;
  return `# Written by the infergate benchmark for one run; removed when the run ends.
worker_processes 1;
worker_rlimit_nofile 8192;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;

events {
    worker_connections 4096;
}

http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    keepalive_requests ${KEEPALIVE_REQUESTS};
    http2_max_concurrent_streams ${MAX_CONCURRENT_STREAMS};

    upstream demo_grpc {
        server ${options.upstreamGrpc};
        keepalive ${UPSTREAM_KEEPALIVE};
        keepalive_requests ${KEEPALIVE_REQUESTS};
    }

    upstream demo_http {
        server ${options.upstreamHttp};
        keepalive ${UPSTREAM_KEEPALIVE};
        keepalive_requests ${KEEPALIVE_REQUESTS};
    }

    server {
        listen 127.0.0.1:${options.grpcPort} http2;
        location / {
            grpc_pass grpc://demo_grpc;
        }
    }

    server {
        listen 127.0.0.1:${options.httpPort};
        location / {
            proxy_pass http://demo_http;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
        }
    }
}
`;
}
