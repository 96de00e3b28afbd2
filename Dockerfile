# dcrconsole: multi-stage build. The builder compiles with cgo (SQLite is built
# in, so the same image serves database.driver = "sqlite" or "postgres"); the
# runtime image holds the binary, CA certificates and tzdata, and runs as a
# non-root user.
#
#   docker build -t dcrconsole --build-arg VERSION=$(git describe --tags) --build-arg COMMIT=$(git rev-parse HEAD) .

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=1 go build -trimpath -tags nomsgpack \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/dcrconsole .

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 dcrconsole \
 && useradd --system --uid 10001 --gid dcrconsole --home-dir /var/lib/dcrconsole --create-home dcrconsole
COPY --from=build /out/dcrconsole /usr/local/bin/dcrconsole
USER 10001:10001
WORKDIR /var/lib/dcrconsole
# SQLite deployments keep their database here; PostgreSQL ones keep nothing.
VOLUME ["/var/lib/dcrconsole"]
EXPOSE 8080
# The configuration must set server.listen = "0.0.0.0:8080" to be reachable.
# Health: GET /healthz (process up), GET /readyz (database answers; 503 otherwise).
ENTRYPOINT ["/usr/local/bin/dcrconsole"]
CMD ["--config", "/etc/dcrconsole/dcrconsole.toml"]
